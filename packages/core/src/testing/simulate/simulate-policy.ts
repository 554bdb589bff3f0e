// simulatePolicy: the real engine (createAiClient, the same code path as production) driven on a
// virtual clock by simulated providers. A discrete-event loop: it lets every ready promise
// chain run to its end (a turn of the real event loop), and only then moves time to the next
// timer, so the engine's timeouts, backoff sleeps, hedge delays and breaker cooldowns happen
// in the order they would in real time, without any real waiting.
import { createAiClient, type CreateAiClientOptions } from '../../client.js';
import { isAiError } from '../../errors/ai-error.js';
import { definePolicy, type AiPolicy } from '../../policy/ai-policy.js';
import { LocalLimiter } from '../../policy/local-limiter.js';
import type { SharedRateLimits } from '../../policy/rate-limit.js';
import { CAPABILITIES, type Capability, type EvalRequest, type Provider, type SttRequest, type TtsRequest } from '../../spec/types.js';
import type { UsageRecord, UsageSink } from '../../usage/usage-record.js';
import { configError, parseProfiles, type ProviderProfiles } from './profile.js';
import { seededRandom, streamFor } from './prng.js';
import { CapabilityTally, type BreakerChange, type SimulationReport } from './report.js';
import { profileSampler as samplerFor, simulatedProvider, type AttemptDraw } from './simulated-provider.js';
import { VirtualClock } from './virtual-clock.js';
import { parseWorkload, ttsTextOf, type Workload } from './workload.js';

export interface SimulatePolicyOptions {
  /** The policy under test: a `definePolicy` result or raw input (an ai-policy.json's content). */
  policy: AiPolicy | unknown;
  /** Per provider key: latency and faults (see ProviderProfile). */
  profiles: ProviderProfiles;
  workload: Workload;
  /** Seed of every draw (latency, faults, mix, arrivals, backoff jitter). Default 1. */
  seed?: number;
  /** Prices, as createAiClient takes them. Default: the default price table. */
  pricing?: CreateAiClientOptions['pricing'];
}

/**
 * The simulation could not go on: calls wait on something that is not on the virtual clock (a
 * real timer, real I/O). A fault of the simulator or of a custom piece it runs, not of the input,
 * so it is not invalid_config (the CLI exits 3 for it).
 */
export class SimulationStalledError extends Error {
  override readonly name = 'SimulationStalledError';
}

/** Virtual start: a fixed instant, so budget days and timestamps repeat too. */
const START_MS = Date.UTC(2026, 0, 5, 9, 0, 0);

/** One turn of the real event loop: every promise chain that can run, runs. */
const drain = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function sessionUuid(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/**
 * Runs `workload` against `policy` with providers that behave as `profiles` say, on a virtual
 * clock, and reports per capability latency percentiles, success rate, attempts, fallbacks,
 * hedges, breaker opens, budget refusals and exact cost. The same seed gives the same report.
 * Bad input throws AiError `invalid_config` naming the field.
 */
export async function simulatePolicy(options: SimulatePolicyOptions): Promise<SimulationReport> {
  if (!options || typeof options !== 'object') throw configError('options: must be an object');
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed)) throw configError(`seed: must be an integer (got ${String(seed)})`);
  const policy = definePolicy(options.policy ?? {});
  const profiles = parseProfiles(policy, options.profiles);
  const available = CAPABILITIES.filter((c) => [...profiles.values()].some((p) => p.capability === c));
  const workload = parseWorkload(options.workload, available, policy);

  const clock = new VirtualClock(START_MS);
  const providers: Record<string, Provider> = {};
  for (const [key, profile] of profiles) {
    providers[key] = simulatedProvider({ key, profile, clock, random: streamFor(seed, `provider:${key}`), passMark: policy.capabilities.eval.passMark });
  }

  const tallies = Object.fromEntries(CAPABILITIES.map((c) => [c, new CapabilityTally()])) as Record<Capability, CapabilityTally>;
  const breakers: BreakerChange[] = [];
  const capOf = (key: string): Capability => key.slice(0, key.indexOf(':')) as Capability;
  const costSink: UsageSink = {
    write: (r: UsageRecord) => {
      if (r.estimatedCostUsd) tallies[r.providerType].costMicro += Math.round(r.estimatedCostUsd * 1e6);
    },
    flush: async () => {},
    close: async () => {},
  };
  // A shared (Redis) limit is simulated as what one process sees of it when it is the only
  // caller: a local limiter with the same limits, on the virtual clock. Other processes' share
  // of the limit is not modelled.
  const sharedRateLimits: SharedRateLimits = { limiterFor: (spec) => new LocalLimiter(spec.policy, spec.clock), close: async () => {} };
  const client = createAiClient({
    policy,
    providers,
    sharedRateLimits,
    pricing: options.pricing,
    sinks: [costSink],
    clock,
    random: streamFor(seed, 'engine'),
    events: {
      onAttempt: (e) => {
        if (e.outcome !== 'skipped') tallies[e.capability].attempts++;
      },
      onFallback: (e) => void tallies[e.capability].fallbacks++,
      onHedge: (e) => void tallies[e.capability].hedges++,
      onBudgetRefused: (e) => void tallies[e.capability].budgetRefusals++,
      onBreak: (e) => {
        tallies[capOf(e.key)].breakerOpens++;
        breakers.push({ atMs: clock.elapsed(), key: e.key, state: 'open' });
      },
      onHalfOpen: (e) => void breakers.push({ atMs: clock.elapsed(), key: e.key, state: 'half_open' }),
      onReset: (e) => void breakers.push({ atMs: clock.elapsed(), key: e.key, state: 'closed' }),
    },
  });

  const rnd = streamFor(seed, 'workload');
  const sttAudio = new Uint8Array((workload.request?.sttAudioMs ?? 3000) * 32);
  const sttReq: SttRequest = { audio: sttAudio, encoding: 'LINEAR16', sampleRateHertz: 16_000, languageCode: 'ko-KR' };
  const ttsChars = workload.request?.ttsChars ?? 40;
  const ttsReq: TtsRequest = { text: ttsTextOf(ttsChars) };
  const evalReq: EvalRequest = { prompt: '자기소개를 하세요.', learnerAnswer: '저는 학생입니다.', targetFormality: 'hapsyo' };

  async function oneCall(capability: Capability, sessionId?: string): Promise<void> {
    const started = clock.now();
    const opts = sessionId ? { sessionId } : undefined;
    let errorCode: string | undefined;
    try {
      if (capability === 'stt') await client.stt.transcribe(sttReq, opts);
      else if (capability === 'tts') await client.tts.synthesize(ttsReq, opts);
      else await client.eval.evaluate(evalReq, opts);
    } catch (e) {
      errorCode = isAiError(e) ? e.code : 'unknown';
    }
    tallies[capability].recordCall(clock.now() - started, errorCode);
  }

  const weights = available.map((c) => (workload.mix ? (workload.mix[c] ?? 0) : 1));
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const drawCapability = (): Capability => {
    let u = rnd() * totalWeight;
    for (let i = 0; i < available.length; i++) if ((u -= weights[i]!) < 0) return available[i]!;
    return available[available.length - 1]!;
  };
  const lesson = workload.lesson ?? Object.fromEntries(available.map((c) => [c, 1]));
  const turns = Math.max(...CAPABILITIES.map((c) => lesson[c] ?? 0));
  async function oneLesson(n: number): Promise<void> {
    const sessionId = sessionUuid(n + 1);
    for (let turn = 0; turn < turns; turn++) for (const c of ['stt', 'eval', 'tts'] as const) if (turn < (lesson[c] ?? 0)) await oneCall(c, sessionId);
  }

  const units = workload.calls ?? workload.lessons!;
  // Draw each call's capability up front, so the mix does not depend on completion order.
  const plan = workload.calls !== undefined ? Array.from({ length: units }, drawCapability) : undefined;
  const runUnit = (n: number): Promise<void> => (plan ? oneCall(plan[n]!) : oneLesson(n));

  async function runWorkload(): Promise<void> {
    if (workload.arrivalsPerSecond !== undefined) {
      const meanGapMs = 1000 / workload.arrivalsPerSecond;
      const arrivals = seededRandom(Math.floor(rnd() * 2 ** 32));
      const running: Promise<void>[] = [];
      for (let n = 0; n < units; n++) {
        running.push(runUnit(n));
        const gap = -Math.log(1 - arrivals()) * meanGapMs;
        await new Promise<void>((resolve) => clock.setTimeout(resolve, gap));
      }
      await Promise.all(running);
      return;
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < units) await runUnit(next++);
    };
    await Promise.all(Array.from({ length: Math.min(workload.concurrency ?? 10, units) }, worker));
  }

  let done = false;
  let failure: unknown;
  (async () => {
    try {
      await runWorkload();
    } finally {
      await client.close();
    }
  })().then(
    () => (done = true),
    (e) => {
      failure = e;
      done = true;
    },
  );
  while (!done) {
    await drain();
    if (done) break;
    if (!clock.fireNext()) {
      // Nothing to fire: let anything still settling run, then give up rather than spin.
      await drain();
      if (!done) throw new SimulationStalledError('simulatePolicy: the simulation stalled: calls are waiting on something other than the virtual clock');
    }
  }
  if (failure) throw failure;
  const simulatedMs = clock.elapsed();

  const report: SimulationReport = { seed, calls: 0, successRate: 0, totalCostUsd: 0, costPerCallUsd: 0, simulatedMs, breakers };
  let successes = 0;
  let costMicro = 0;
  for (const c of CAPABILITIES) {
    const t = tallies[c];
    if (t.calls === 0) continue;
    report[c] = t.report();
    report.calls += t.calls;
    successes += t.successes;
    costMicro += t.costMicro;
  }
  report.successRate = report.calls ? successes / report.calls : 0;
  report.totalCostUsd = costMicro / 1e6;
  report.costPerCallUsd = report.calls ? costMicro / report.calls / 1e6 : 0;
  if (workload.lessons !== undefined) {
    report.lessons = workload.lessons;
    report.costPerLessonUsd = costMicro / workload.lessons / 1e6;
  }
  return report;
}

/**
 * The per-attempt draws simulatePolicy makes for provider `key` with `seed`: call it once per
 * attempt, with the virtual ms since the start, to get `{ fault?, latencyMs }`. For replaying a
 * simulation's faults against real providers or the emulators (the agreement test does).
 */
export function profileSampler(options: { policy?: AiPolicy | unknown; profiles: ProviderProfiles; key: string; seed?: number }): (atMs: number) => AttemptDraw {
  const profiles = parseProfiles(definePolicy(options.policy ?? {}), options.profiles);
  const profile = profiles.get(options.key);
  if (!profile) throw configError(`key: no profile named '${options.key}'`);
  return samplerFor(profile, streamFor(options.seed ?? 1, `provider:${options.key}`));
}
