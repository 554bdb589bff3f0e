// `client.stt.transcribeStream`: recognition of audio while it is spoken, under the policy.
// Streaming providers get the audio as it comes; the others get it as one sync request when it
// ends. A step that fails before its first final result hands the buffered audio to the next.
import { sttWorstCase, sttCapability } from '../capabilities/stt.js';
import { budgetRefusal, callError, interruptedCode } from '../engine/call-error.js';
import type { CallContext, CapabilityPlan, ChainLink } from '../engine/runtime.js';
import { AiError, isAiError } from '../errors/ai-error.js';
import { microToUsd } from '../pricing/cost.js';
import { validateSttRequest } from '../requests/stt-request.js';
import type { SttStream, SttStreamEvent, SttStreamRequest, SttStreamingCapable } from '../spec/streaming.js';
import type { CallOptions, SttProvider, SttRequest, SttResult } from '../spec/types.js';
import { EventChannel } from './event-channel.js';
import { pumpProviderStream } from './provider-pump.js';
import { ReplaySource, Stopper } from './replay-source.js';
import type { AttemptTools, BodyOutcome, StreamBody } from './stream-attempt.js';
import { StreamCall } from './stream-call.js';
import { joinFinals, SttStreamInterruptedError, type SttFinal } from './stream-errors.js';
import { walkStream } from './stream-walk.js';
import { AudioMeter, STT_STREAM_OPERATION, validateSttStreamRequest } from './stt-stream-request.js';
import { usageWithin } from './usage-wait.js';

const NO_AUDIO = new Uint8Array(0);

/** Starts a recognition stream; `refused` is the client's refusal (closed, no chain, bad options), if any. */
export function transcribeStream(ctx: CallContext, plan: CapabilityPlan, audio: AsyncIterable<Uint8Array>, req: SttStreamRequest, opts: CallOptions, refused?: AiError): SttStream {
  const channel = new EventChannel<SttStreamEvent>();
  const result = refused ? Promise.reject(refused) : run(ctx, plan, audio, req, opts, channel);
  result.then(() => channel.end(), (e) => channel.fail(e));
  // The caller may only iterate: a rejection it reads there must not also be unhandled here.
  result.catch(() => {});
  return { [Symbol.asyncIterator]: () => channel[Symbol.asyncIterator](), result };
}

async function run(ctx: CallContext, plan: CapabilityPlan, audio: AsyncIterable<Uint8Array>, rawReq: unknown, opts: CallOptions, channel: EventChannel<SttStreamEvent>): Promise<SttResult> {
  const req = validateSttStreamRequest(audio, rawReq);
  const sc = new StreamCall(ctx, plan, req, opts, {
    operation: STT_STREAM_OPERATION,
    worstCase: sttWorstCase({ audio: NO_AUDIO } as SttRequest, req.maxAudioMs),
    inputBoundMs: req.maxAudioMs,
  });
  const { call } = sc;
  const meter = new AudioMeter(req, () => ctx.clock.now());
  const source = new ReplaySource<Uint8Array>(audio, {
    onItem: (chunk, i) => meter.add(chunk, i),
    onEnd: () => {
      if (meter.bytes === 0) sc.refuse(new AiError('invalid_request', `${STT_STREAM_OPERATION}: invalid request: audio: must not be empty`, { retryable: false, attempts: call.attempts }));
      sc.inputEnd();
    },
    onFail: (e) =>
      sc.refuse(
        isAiError(e) ? new AiError(e.code, e.message, { retryable: false, attempts: call.attempts }) : new AiError('cancelled', `${STT_STREAM_OPERATION}: the caller's audio failed (${(e as Error)?.name ?? typeof e})`, { retryable: false, attempts: call.attempts }),
      ),
  });
  const finals: SttFinal[] = [];
  const deliver = (ev: SttStreamEvent): void => {
    call.trace?.firstOutput('result');
    if (ev.type === 'final') {
      finals.push(ev);
      sc.committed = true;
    }
    channel.push(ev);
  };
  let done: SttResult | undefined;
  let failure: unknown;
  try {
    await sc.reserve();
    const walked = await walkStream(sc, (link) => (typeof (link.provider as Partial<SttStreamingCapable>).transcribeStream === 'function' ? streamBody(sc, link, source, meter, req, deliver) : syncBody(sc, link, source, req, deliver)));
    if (walked.ok) {
      const { link, out } = walked;
      const confidences = finals.map((f) => f.confidence).filter((c): c is number => c !== undefined);
      const sttResult: SttResult = {
        transcript: joinFinals(finals),
        audioDurationMs: out.units.audioDurationMs ?? meter.audioMs,
        meta: {
          callId: call.callId,
          provider: link.provider.name,
          providerKey: link.key,
          modelId: out.modelId ?? link.provider.modelId,
          attempts: call.attempts,
          latencyMs: ctx.clock.now() - call.startedAt,
          costUsd: microToUsd(call.totalMicro),
        },
      };
      if (confidences.length > 0) sttResult.confidence = confidences.reduce((a, b) => a + b, 0) / confidences.length;
      done = sttResult;
      return sttResult;
    }
    if (sc.fatal) throw sc.fatal;
    const refusal = budgetRefusal(call);
    if (refusal) throw refusal;
    const last = walked.errors[walked.errors.length - 1];
    if (finals.length > 0) {
      const code = interruptedCode(call.cause, last);
      throw new SttStreamInterruptedError(code, `${STT_STREAM_OPERATION}: the stream failed after ${finals.length} final result(s) were delivered; not retried (error.finals holds them)`, [...finals], call.attempts, last);
    }
    throw callError('stt', STT_STREAM_OPERATION, walked.errors, call.attempts, call.cause, call.deadlineMs);
  } catch (e) {
    failure = e;
    throw e;
  } finally {
    sc.finish(done, failure);
    source.close();
  }
}

/** A streaming provider's attempt: the audio from its first chunk, events as they come. */
function streamBody(sc: StreamCall, link: ChainLink, source: ReplaySource<Uint8Array>, meter: AudioMeter, req: SttStreamRequest, deliver: (ev: SttStreamEvent) => void): StreamBody {
  const firstMs = sc.call.ctx.policy.capabilities.stt.firstResultTimeoutMs;
  return async (tools: AttemptTools): Promise<BodyOutcome> => {
    const stopper = new Stopper();
    tools.scope.signal.addEventListener('abort', () => stopper.stop(), { once: true });
    let sentBytes = 0;
    const reader = source.reader(
      stopper,
      (chunk, index) => {
        sentBytes += chunk.byteLength;
        // After a final nothing is replayed: keep no audio this reader has already sent.
        if (sc.committed) source.forgetBefore(index);
        tools.armFirst(firstMs, `no result within firstResultTimeoutMs (${firstMs} ms) of the first audio sent`);
      },
      () => tools.armTail('audio'),
    );
    const provider = link.provider as SttProvider & SttStreamingCapable;
    let error: unknown;
    let usage: Promise<{ audioDurationMs: number; modelId?: string }> | undefined;
    try {
      const stream = provider.transcribeStream(reader, req, tools.context());
      usage = stream.usage;
      error = await pumpProviderStream(stream, (p) => tools.scope.race(p), (event) => {
        tools.clearFirst();
        deliver(event);
      });
    } catch (e) {
      error = e;
    }
    stopper.stop();
    const billed = await usageWithin(usage, sc.clock);
    // No word from the provider on what it billed: bill the audio it was sent.
    const audioDurationMs = billed?.audioDurationMs ?? (req.encoding === 'LINEAR16' ? Math.ceil((sentBytes / 2 / req.sampleRateHertz!) * 1000) : meter.audioMs);
    const out: BodyOutcome = { units: sentBytes > 0 || billed ? { audioDurationMs, requests: 1 } : {}, error };
    if (billed?.modelId !== undefined) out.modelId = billed.modelId;
    return out;
  };
}

/** A provider without streaming: the whole audio as one sync request once it ended, its transcript as one final. */
function syncBody(sc: StreamCall, link: ChainLink, source: ReplaySource<Uint8Array>, req: SttStreamRequest, deliver: (ev: SttStreamEvent) => void): StreamBody {
  return async (tools: AttemptTools): Promise<BodyOutcome> => {
    const stopper = new Stopper();
    tools.scope.signal.addEventListener('abort', () => stopper.stop(), { once: true });
    const chunks: Uint8Array[] = [];
    try {
      for await (const chunk of source.reader(stopper)) chunks.push(chunk);
    } catch (e) {
      return { units: {}, error: e };
    }
    if (tools.scope.reason !== undefined || sc.fatal !== undefined) return { units: {} };
    const attemptDeadlineAt = tools.armTail('audio');
    const sync: SttRequest = { audio: Buffer.concat(chunks), encoding: req.encoding };
    if (req.sampleRateHertz !== undefined) sync.sampleRateHertz = req.sampleRateHertz;
    if (req.languageCode !== undefined) sync.languageCode = req.languageCode;
    try {
      validateSttRequest(sync, { who: `${STT_STREAM_OPERATION} (${link.key}, sync)`, provider: link.key });
      const raw = await tools.scope.race((link.provider as SttProvider).transcribe(sync, tools.context(attemptDeadlineAt)));
      const final: SttFinal = { type: 'final', transcript: raw.transcript, endMs: raw.audioDurationMs };
      if (raw.confidence !== undefined) final.confidence = raw.confidence;
      deliver(final);
      const out: BodyOutcome = { units: sttCapability.units(raw) };
      if (raw.modelId !== undefined) out.modelId = raw.modelId;
      return out;
    } catch (e) {
      const billed = isAiError(e) ? e.usage : undefined;
      return { units: billed ? { ...billed, requests: 1 } : {}, error: e };
    }
  };
}
