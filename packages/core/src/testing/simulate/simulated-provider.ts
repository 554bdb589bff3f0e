// A provider that follows a profile: each attempt draws a fault (or none) and a latency from
// the provider's own seeded stream, waits on the virtual clock, then answers or fails the way
// the real adapters do (an AiError with the mapped code, status and Retry-After).
import { AiError } from '../../errors/ai-error.js';
import { codeForHttpStatus } from '../../errors/map.js';
import type { AttemptContext, Provider } from '../../spec/types.js';
import type { VirtualClock } from './virtual-clock.js';
import type { ParsedProfile } from './profile.js';
import { normal } from './prng.js';

type Latency = ParsedProfile['latency'];
type Fault = ParsedProfile['faults'][number];

export function drawLatency(latency: Latency, random: () => number): number {
  switch (latency.kind) {
    case 'fixed':
      return latency.ms;
    case 'normal':
      return Math.max(0, latency.meanMs + latency.stdDevMs * normal(random));
    case 'lognormal':
      return latency.medianMs * Math.exp(latency.sigma * normal(random));
    case 'samples': {
      const censored = latency.censoredMs ?? [];
      const n = latency.ms.length + censored.length;
      const i = Math.min(n - 1, Math.floor(random() * n));
      if (i < latency.ms.length) return latency.ms[i]!;
      // A lower bound: the answer came later than c. Redistribute it over the samples above c.
      const c = censored[i - latency.ms.length]!;
      const sorted = sortedSamples(latency.ms);
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sorted[mid]! <= c) lo = mid + 1;
        else hi = mid;
      }
      if (lo === sorted.length) return c;
      return sorted[Math.min(sorted.length - 1, lo + Math.floor(random() * (sorted.length - lo)))]!;
    }
  }
}

const sortedCache = new WeakMap<readonly number[], number[]>();
function sortedSamples(ms: readonly number[]): number[] {
  let sorted = sortedCache.get(ms);
  if (!sorted) sortedCache.set(ms, (sorted = [...ms].sort((a, b) => a - b)));
  return sorted;
}

function wait(clock: VirtualClock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(signal.reason);
    };
    const handle = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function hang(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

const GOOD_EVAL = { score: 85, primaryErrorType: null, errors: [], suggestions: ['계속 연습하세요'], rationale: 'Correct and polite.' };
/** Breaks the eval schema (score out of range): core's check turns it into schema_violation. */
const BAD_EVAL = { score: 150, passFail: true, primaryErrorType: 'spelling', errors: [], suggestions: [], rationale: '' };

/** One attempt's draws: the fault it meets (if any) and its latency. */
export interface AttemptDraw {
  fault?: Fault;
  latencyMs: number;
}

/**
 * The draws a simulated provider makes per attempt, in order: one uniform for the fault, then
 * the latency's. Exposed through `profileSampler` so a real-time run (the emulators) can replay
 * exactly the faults the simulation saw.
 */
export function profileSampler(profile: Pick<ParsedProfile, 'latency' | 'faults'>, random: () => number): (atMs: number) => AttemptDraw {
  const faults = profile.faults;
  return (atMs) => {
    // One draw per attempt whatever the profile, so the stream stays aligned across runs.
    const u = random();
    let fault: Fault | undefined;
    let cum = 0;
    for (const f of faults) {
      if ((f.fromMs ?? 0) > atMs || (f.toMs !== undefined && atMs >= f.toMs)) continue;
      cum += f.probability;
      if (u < cum) {
        fault = f;
        break;
      }
    }
    return { fault, latencyMs: drawLatency(profile.latency, random) };
  };
}

export interface SimulatedProviderOptions {
  key: string;
  profile: ParsedProfile;
  clock: VirtualClock;
  random: () => number;
  passMark: number;
}

export function simulatedProvider({ key, profile, clock, random, passMark }: SimulatedProviderOptions): Provider {
  const sampler = profileSampler(profile, random);
  /** Plays one attempt; resolves when a good answer is due, or with 'bad' for a schema-breaking one. */
  const play = async (ctx: AttemptContext): Promise<'good' | 'bad'> => {
    const { fault, latencyMs } = sampler(clock.elapsed());
    if (!fault) {
      await wait(clock, latencyMs, ctx.signal);
      return 'good';
    }
    if (fault.kind === 'hang') return hang(ctx.signal);
    await wait(clock, fault.afterMs ?? latencyMs, ctx.signal);
    if (fault.kind === 'schema_violation') return 'bad';
    if (fault.kind === 'retry_after') {
      throw new AiError('rate_limited', `${key}: simulated 429`, { provider: key, retryable: true, status: 429, retryAfterMs: fault.retryAfterMs ?? 1000 });
    }
    const { code, retryable } = codeForHttpStatus(fault.status!);
    throw new AiError(code, `${key}: simulated ${fault.status}`, { provider: key, retryable, status: fault.status, retryAfterMs: fault.retryAfterMs });
  };
  const base = { name: `simulated-${key}`, modelId: profile.modelId };
  switch (profile.capability) {
    case 'eval': {
      const good = { ...GOOD_EVAL, passFail: GOOD_EVAL.score >= passMark };
      return {
        ...base,
        capability: 'eval',
        async evaluate(_req, ctx) {
          const answer = await play(ctx);
          return { output: answer === 'good' ? good : BAD_EVAL, tokensIn: profile.tokensIn ?? 1000, tokensOut: profile.tokensOut ?? 200 };
        },
      };
    }
    case 'stt':
      return {
        ...base,
        capability: 'stt',
        async transcribe(req, ctx) {
          await play(ctx);
          // LINEAR16 at 16 kHz mono: 32 bytes per ms.
          return { transcript: '안녕하세요', confidence: 0.9, audioDurationMs: Math.round(req.audio.byteLength / 32) };
        },
      };
    case 'tts':
      return {
        ...base,
        capability: 'tts',
        async synthesize(req, ctx) {
          await play(ctx);
          return { audio: new Uint8Array([0xff, 0xf3, 0x00]), encoding: 'MP3', characters: [...req.text].length };
        },
      };
  }
}
