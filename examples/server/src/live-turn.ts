// One live spoken turn over a WebSocket (protocol in live-protocol.ts): the learner's audio
// streams into client.stt.transcribeStream while they speak, interim and final transcripts go
// back as they are heard; at `end` the answer is graded and the tutor's reply streams back from
// client.tts.synthesizeStream as it is synthesised. Session events are written as for
// POST /v1/turns (turn-record.ts); every AI call carries the session and event ids, so its usage
// rows (one per attempt, written by the client's sink) join to them. Whatever ends the turn early
// (a bad frame, the limit, the client leaving, shutdown) aborts the calls in flight, so the
// attempts are recorded as cancelled rather than lost.

import { randomUUID } from 'node:crypto';
import { isAiError, streamAudioByteLimit, type AiClient, type Capability, type EvalResult, type ResultMeta, type TtsResult } from '@korean-together/core';
import type { QueryableLike } from '@korean-together/usage-log';
import type { WebSocket } from 'ws';
import { publicMeta } from './ai-routes.js';
import { FrameQueue } from './frame-queue.js';
import { SpeculativeGrader } from './live-speculation.js';
import { LIVE_CLOSE, LIVE_LIMITS, parseClientText, type LiveStart, type ServerMessage } from './live-protocol.js';
import { gradeRequest, replyText, TurnRecorder } from './turn-record.js';

export interface LiveTurnDeps {
  client: AiClient;
  db?: { queryable: QueryableLike; schema: string };
  /** Aborts the turn when the server's shutdown deadline passes. */
  shutdownSignal: AbortSignal;
  /** Per-turn limits in ms; default LIVE_LIMITS.maxAudioMs / maxTurnMs. */
  limits?: { maxAudioMs?: number; maxTurnMs?: number };
  /**
   * Grade the recognizer's guess ahead once an interim result reaches this stability (or a final
   * result comes), adopted when the final transcript matches (live-speculation.ts). Default 0.8;
   * `false` grades only after the end of the speech.
   */
  speculateAtStability?: number | false;
}

class TurnEnded extends Error {
  constructor(
    readonly closeCode: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

interface CallEntry {
  capability: Capability;
  purpose: string;
  ok: boolean;
  meta?: ResultMeta;
  errorCode?: string;
  /** What a failed call's attempts cost (an AiError carries them), USD; a success's is in `meta`. */
  failedCostUsd?: number;
}

/** The entry of a failed call: its code, and what its attempts were billed (an AiError's `attempts`). */
function failedCall(capability: Capability, purpose: string, e: unknown): CallEntry {
  const attempts = isAiError(e) ? (e.attempts ?? []) : [];
  return { capability, purpose, ok: false, errorCode: isAiError(e) ? e.code : 'internal', failedCostUsd: attempts.reduce((sum, a) => sum + a.costUsd, 0) };
}

export class LiveTurn {
  private state: 'waiting' | 'listening' | 'answering' | 'over' = 'waiting';
  private readonly abort = new AbortController();
  private readonly audio = new FrameQueue();
  private audioBytes = 0;
  /** Most audio bytes `maxAudioMs` of the start's encoding can take (the core's streamAudioByteLimit). */
  private audioByteLimit = 0;
  private start: LiveStart | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly calls: CallEntry[] = [];
  private readonly limits: { maxAudioMs: number; maxTurnMs: number };
  /** Settles when the turn's work is over (for tests and shutdown). */
  readonly finished: Promise<void>;
  private finish!: () => void;

  constructor(
    private readonly socket: WebSocket,
    private readonly deps: LiveTurnDeps,
  ) {
    this.limits = { maxAudioMs: deps.limits?.maxAudioMs ?? LIVE_LIMITS.maxAudioMs, maxTurnMs: deps.limits?.maxTurnMs ?? LIVE_LIMITS.maxTurnMs };
    this.finished = new Promise((resolve) => (this.finish = resolve));
    const onShutdown = () => this.end(new TurnEnded(LIVE_CLOSE.goingAway, 'unavailable', 'the server is shutting down; retry on another instance'));
    deps.shutdownSignal.addEventListener('abort', onShutdown, { once: true });
    socket.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => this.onMessage(data, isBinary));
    socket.on('close', () => {
      deps.shutdownSignal.removeEventListener('abort', onShutdown);
      // The client left before the turn was done: stop paying for it.
      if (this.state !== 'over') this.end(undefined);
    });
    socket.on('error', () => undefined);
  }

  private send(msg: ServerMessage): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(msg));
  }

  /** Ends the turn: aborts what is in flight and closes with the reason's code (nothing to send when the client already left). */
  private end(reason: TurnEnded | undefined): void {
    if (this.state === 'over') return;
    this.state = 'over';
    clearTimeout(this.timer);
    this.abort.abort();
    this.audio.fail(new Error('the live turn ended before the end of the audio'));
    if (reason) {
      this.send({ type: 'error', code: reason.errorCode, message: reason.message });
      if (this.socket.readyState === this.socket.OPEN) this.socket.close(reason.closeCode, reason.errorCode);
    }
  }

  private badFrame(problem: string): void {
    this.end(new TurnEnded(LIVE_CLOSE.badFrame, 'bad_frame', problem));
  }

  private onMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (this.state === 'over') return;
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (isBinary) {
      if (this.state !== 'listening') return this.badFrame(this.state === 'waiting' ? 'audio frame before start' : 'audio frame after end');
      this.audioBytes += bytes.length;
      // Compressed audio too is bounded by bytes: a client may send it faster than it is spoken.
      if (this.audioBytes > this.audioByteLimit) {
        const over = this.start!.encoding === 'LINEAR16' ? '' : ` (more than ${this.audioByteLimit} bytes of ${this.start!.encoding})`;
        return this.end(new TurnEnded(LIVE_CLOSE.turnTooLong, 'turn_too_long', `the turn's audio passed ${this.limits.maxAudioMs} ms${over}`));
      }
      this.audio.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return;
    }
    const msg = parseClientText(bytes.toString('utf8'));
    if ('problem' in msg) return this.badFrame(msg.problem);
    if (msg.type === 'start') {
      if (this.state !== 'waiting') return this.badFrame('start: sent twice');
      this.start = msg;
      this.audioByteLimit = streamAudioByteLimit({ encoding: msg.encoding, ...(msg.sampleRateHertz && { sampleRateHertz: msg.sampleRateHertz }), maxAudioMs: this.limits.maxAudioMs });
      this.state = 'listening';
      this.timer = setTimeout(() => this.end(new TurnEnded(LIVE_CLOSE.turnTooLong, 'turn_too_long', `end did not come within ${this.limits.maxTurnMs} ms of start`)), this.limits.maxTurnMs);
      this.timer.unref();
      void this.run(msg).finally(() => this.finish());
      return;
    }
    if (this.state !== 'listening') return this.badFrame(this.state === 'waiting' ? 'end before start' : 'end: sent twice');
    this.state = 'answering';
    clearTimeout(this.timer);
    this.audio.end();
  }

  private async tracked<T extends { meta: ResultMeta }>(capability: Capability, purpose: string, run: () => Promise<T>): Promise<T> {
    try {
      const r = await run();
      this.calls.push({ capability, purpose, ok: true, meta: r.meta });
      return r;
    } catch (e) {
      this.calls.push(failedCall(capability, purpose, e));
      throw e;
    }
  }

  private async run(s: LiveStart): Promise<void> {
    const { client, db } = this.deps;
    const sessionId = s.sessionId ?? randomUUID();
    const record = new TurnRecorder(db, sessionId, s.activityId);
    const opts = (eventId: string) => ({ sessionId, eventId, signal: this.abort.signal });
    const eventIds: Record<string, string> = {};
    try {
      await record.open();
      this.send({ type: 'ready', sessionId, maxAudioMs: this.limits.maxAudioMs, maxTurnMs: this.limits.maxTurnMs, maxFrameBytes: LIVE_LIMITS.maxFrameBytes });

      const userEventId = randomUUID();
      const stability = this.deps.speculateAtStability === undefined ? 0.8 : this.deps.speculateAtStability;
      const ahead = new SpeculativeGrader(client, s, { sessionId, signal: this.abort.signal }, stability === false ? undefined : stability);
      const heard = await this.tracked('stt', 'transcribe answer', async () => {
        const stream = client.stt.transcribeStream(
          this.audio,
          { encoding: s.encoding, ...(s.sampleRateHertz && { sampleRateHertz: s.sampleRateHertz }), languageCode: 'ko-KR', maxAudioMs: this.limits.maxAudioMs, interimResults: true },
          opts(userEventId),
        );
        for await (const ev of stream) {
          ahead.onEvent(ev);
          if (ev.type === 'interim') this.send({ type: 'interim', transcript: ev.transcript, ...(ev.stability !== undefined && { stability: ev.stability }) });
          else this.send({ type: 'final', transcript: ev.transcript, ...(ev.confidence !== undefined && { confidence: ev.confidence }), endMs: ev.endMs });
        }
        return stream.result;
      });
      const transcript = heard.transcript.trim();
      const userId = await record.userInput(userEventId, transcript, { meta: heard.meta, source: 'live_audio' });
      if (userId) eventIds.userInput = userId;
      this.send({ type: 'transcript', transcript, meta: publicMeta(heard.meta) });

      let evaluation: EvalResult | null = null;
      const early = ahead.take(transcript);
      for (const d of await ahead.settleDiscarded()) {
        const purpose = 'grade answer ahead (discarded: the transcript changed)';
        this.calls.push(d.status === 'fulfilled' ? { capability: 'eval', purpose, ok: true, meta: d.value.meta } : { ...failedCall('eval', purpose, d.reason), ...(!isAiError(d.reason) && { errorCode: 'cancelled' }) });
      }
      if (transcript !== '') {
        const evalEventId = early?.eventId ?? randomUUID();
        evaluation = await this.tracked('eval', early ? 'grade answer (started ahead)' : 'grade answer', () => early?.grade ?? client.eval.evaluate(gradeRequest(s, transcript), opts(evalEventId)));
        const evalId = await record.evaluation(evalEventId, evaluation);
        if (evalId) eventIds.evaluation = evalId;
        const { meta, ...grade } = evaluation;
        this.send({ type: 'grade', evaluation: grade, meta: publicMeta(meta) });
      }

      const reply = replyText(s, evaluation);
      const replyEventId = randomUUID();
      const encoding = s.replyEncoding ?? 'LINEAR16';
      const sampleRateHertz = encoding === 'LINEAR16' ? (s.replySampleRateHertz ?? 24_000) : undefined;
      this.send({ type: 'reply', text: reply, encoding, ...(sampleRateHertz && { sampleRateHertz }) });
      let tts: TtsResult | null = null;
      let replyError: string | undefined;
      try {
        tts = await this.tracked('tts', 'speak reply', async () => {
          const stream = client.tts.synthesizeStream(reply, { ...(s.voice && { voice: s.voice }), audioEncoding: encoding, ...(sampleRateHertz && { sampleRateHertz }) }, opts(replyEventId));
          for await (const chunk of stream) if (this.socket.readyState === this.socket.OPEN) this.socket.send(chunk);
          return stream.result;
        });
      } catch (e) {
        // As POST /v1/turns: a reply that could not be spoken does not fail the graded turn.
        if (!isAiError(e) || e.code === 'cancelled' || this.abort.signal.aborted) throw e;
        replyError = e.code;
      }
      const replyId = await record.tutorResponse(replyEventId, reply, tts, replyError, { source: 'live' });
      if (replyId) eventIds.tutorResponse = replyId;
      this.send({ type: 'reply_end', ...(tts && { meta: publicMeta(tts.meta) }), ...(replyError && { errorCode: replyError }) });
      this.send({
        type: 'done',
        sessionId,
        eventIds,
        // Failed calls were billed too (an interrupted reply has no meta): their attempts count.
        costUsd: this.calls.reduce((sum, c) => sum + (c.meta?.costUsd ?? c.failedCostUsd ?? 0), 0),
        calls: this.calls.map((c) => ({ capability: c.capability, purpose: c.purpose, ok: c.ok, ...(c.meta && { meta: publicMeta(c.meta) }), ...(c.errorCode && { errorCode: c.errorCode }), ...(c.failedCostUsd !== undefined && { costUsd: c.failedCostUsd }) })),
      });
      this.state = 'over';
      clearTimeout(this.timer);
      if (this.socket.readyState === this.socket.OPEN) this.socket.close(LIVE_CLOSE.done, 'done');
    } catch (e) {
      if (this.state === 'over') return;
      const code = isAiError(e) ? e.code : 'internal';
      const closeCode = code === 'invalid_request' && this.calls.length === 0 ? LIVE_CLOSE.badFrame : code === 'unavailable' && this.calls.length === 0 ? LIVE_CLOSE.unavailable : LIVE_CLOSE.aiFailed;
      this.end(new TurnEnded(closeCode, code, isAiError(e) ? e.message : 'the turn failed on the server'));
    }
  }
}
