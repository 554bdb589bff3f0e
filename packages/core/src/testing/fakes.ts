// Test doubles for the provider spec and sinks: the core's own tests and '@korean-together/core/testing'.
import { AiError } from '../errors/ai-error.js';
import type { Clock } from '../policy/clock.js';
import type { AttemptContext, EvalProvider, EvalRequest, SttProvider, TtsProvider } from '../spec/types.js';
import type { UsageRecord, UsageSink } from '../usage/usage-record.js';

/** What a scripted provider does on one attempt. */
export type Script =
  | { ok: true; afterMs?: number }
  | { error: AiError; afterMs?: number }
  | { hang: true }
  | { output: unknown; afterMs?: number };

export interface Recorder {
  calls: AttemptContext[];
  aborted: number;
}

/** Options every fake provider takes. */
export interface FakeOptions {
  name?: string;
  modelId?: string;
  /** Where `afterMs` waits: a FakeClock in a test. Default: the (possibly vitest-faked) global timers. */
  clock?: Clock;
}

/** Waits `ms` on `clock` (or the global timers), rejecting when the attempt's signal aborts. */
function wait(ms: number, signal: AbortSignal, clock: Clock | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = clock ? clock.setTimeout(resolve, ms) : setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      if (clock) clock.clearTimeout(t);
      else clearTimeout(t as ReturnType<typeof setTimeout>);
      reject(signal.reason);
    }, { once: true });
  });
}

async function play(script: Script, ctx: AttemptContext, rec: Recorder, clock: Clock | undefined): Promise<unknown> {
  rec.calls.push(ctx);
  ctx.signal.addEventListener('abort', () => rec.aborted++, { once: true });
  if ('hang' in script) {
    await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));
  }
  if ('afterMs' in script && script.afterMs) await wait(script.afterMs, ctx.signal, clock);
  if ('error' in script) throw script.error;
  return 'output' in script ? script.output : undefined;
}

/** Picks the script for the n-th call (the last one repeats). */
function pick(scripts: Script[], n: number): Script {
  return scripts[Math.min(n, scripts.length - 1)]!;
}

export const goodEval = { score: 85, passFail: true, primaryErrorType: null, errors: [], suggestions: ['계속 연습하세요'], rationale: 'Correct and polite.' };

/** A scripted evaluator: each attempt plays the next script (the last repeats) and answers `goodEval` unless the script gives `output`. */
export function fakeEval(scripts: Script[], opts: FakeOptions & { tokensIn?: number; tokensOut?: number } = {}): EvalProvider & Recorder {
  const rec: Recorder = { calls: [], aborted: 0 };
  return Object.assign(rec, {
    capability: 'eval' as const,
    name: opts.name ?? 'fake-eval',
    modelId: opts.modelId ?? 'gemini-2.5-flash',
    async evaluate(_req: EvalRequest, ctx: AttemptContext) {
      const s = pick(scripts, rec.calls.length);
      const out = await play(s, ctx, rec, opts.clock);
      return { output: 'output' in s ? out : goodEval, tokensIn: opts.tokensIn ?? 1000, tokensOut: opts.tokensOut ?? 200 };
    },
  });
}

/** A scripted transcriber: answers '안녕하세요' after its script. */
export function fakeStt(scripts: Script[], opts: FakeOptions & { audioDurationMs?: number } = {}): SttProvider & Recorder {
  const rec: Recorder = { calls: [], aborted: 0 };
  return Object.assign(rec, {
    capability: 'stt' as const,
    name: opts.name ?? 'fake-stt',
    modelId: opts.modelId ?? 'whisper-1',
    async transcribe(_req: unknown, ctx: AttemptContext) {
      await play(pick(scripts, rec.calls.length), ctx, rec, opts.clock);
      return { transcript: '안녕하세요', confidence: 0.9, audioDurationMs: opts.audioDurationMs ?? 3_000 };
    },
  });
}

/** A scripted synthesiser: answers three bytes of 'MP3', billed per code point of the text. */
export function fakeTts(scripts: Script[], opts: FakeOptions = {}): TtsProvider & Recorder {
  const rec: Recorder = { calls: [], aborted: 0 };
  return Object.assign(rec, {
    capability: 'tts' as const,
    name: opts.name ?? 'fake-tts',
    modelId: opts.modelId ?? 'ko-KR-Wavenet-A',
    async synthesize(req: { text: string }, ctx: AttemptContext) {
      await play(pick(scripts, rec.calls.length), ctx, rec, opts.clock);
      return { audio: new Uint8Array([1, 2, 3]), encoding: 'MP3' as const, characters: [...req.text].length };
    },
  });
}

/** A sink that keeps every record in `records` (and counts flushes, notes close). */
export class ArraySink implements UsageSink {
  records: UsageRecord[] = [];
  flushed = 0;
  closed = false;
  write(r: UsageRecord): void {
    this.records.push(r);
  }
  async flush(): Promise<void> {
    this.flushed++;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** AiErrors as adapters map them: a 503, a 400, a 429 with Retry-After. */
export const unavailable = () => new AiError('unavailable', 'fake: 503', { retryable: true, status: 503 });
export const badRequest = () => new AiError('invalid_request', 'fake: 400', { retryable: false, status: 400 });
export const rateLimited = (retryAfterMs: number) => new AiError('rate_limited', 'fake: 429', { retryable: true, status: 429, retryAfterMs });
