// Per-call overhead of the full policy stack around an instant provider, against the bare
// call and against cockatiel's retry + breaker + timeout, measured in one run.
// Run: pnpm --filter @korean-together/core bench
import { ConsecutiveBreaker, ExponentialBackoff, TimeoutStrategy, circuitBreaker, handleAll, retry, timeout, wrap } from 'cockatiel';
import { createAiClient, definePolicy, type AttemptContext, type SttProvider, type UsageRecord } from '../src/index.js';
import { machineLine, markdownTable, printTable, writeBenchSection } from '../../../scripts/bench-report.js';

const N = Number(process.env.BENCH_CALLS ?? 20_000);
const WARMUP = 2_000;

const provider: SttProvider = {
  capability: 'stt',
  name: 'instant',
  modelId: 'whisper-1',
  async transcribe() {
    return { transcript: '네', audioDurationMs: 1_000 };
  },
};
const req = { audio: new Uint8Array(3_200), encoding: 'LINEAR16' as const, sampleRateHertz: 16_000 };
const ctx: AttemptContext = { signal: new AbortController().signal, attempt: 1, deadlineAt: 0, attemptDeadlineAt: 0 };
let rows = 0;
const countingSink = { write: (_r: UsageRecord) => void rows++, flush: async () => {}, close: async () => {} };

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Times `n` sequential awaited calls; returns per-call microseconds (sorted). */
async function timeSequential(fn: () => Promise<unknown>, n: number): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await fn();
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out[i] = Number(process.hrtime.bigint() - t) / 1_000;
  }
  return out.sort((a, b) => a - b);
}

const PROVIDER_MS = 20;
type TimedReq = typeof req & { insideUs?: number };

/** A provider that takes PROVIDER_MS and writes the time it spent onto the request object. */
const slow: SttProvider = {
  capability: 'stt',
  name: 'slow',
  modelId: 'whisper-1',
  async transcribe(r) {
    const t = process.hrtime.bigint();
    await new Promise((resolve) => setTimeout(resolve, PROVIDER_MS));
    (r as TimedReq).insideUs = Number(process.hrtime.bigint() - t) / 1_000;
    return { transcript: '네', audioDurationMs: 1_000 };
  },
};

/**
 * Keeps `inFlight` calls running at once (each worker calls again as soon as its call ends)
 * and returns each call's overhead: its latency minus the time spent inside the provider, in
 * microseconds (sorted). The first call of each worker warms up and is not counted.
 */
async function overheadUnderLoad(call: (r: TimedReq) => Promise<unknown>, inFlight: number, callsPerWorker: number): Promise<number[]> {
  const out: number[] = [];
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let i = 0; i <= callsPerWorker; i++) {
        const r: TimedReq = { ...req };
        const t = process.hrtime.bigint();
        await call(r);
        const total = Number(process.hrtime.bigint() - t) / 1_000;
        if (i > 0) out.push(total - (r.insideUs ?? 0));
      }
    }),
  );
  return out.sort((a, b) => a - b);
}

const full = createAiClient({ providers: { p: provider }, sinks: [countingSink] });
const budgeted = createAiClient({
  policy: definePolicy({ budget: { perDayUsd: 1e6, perSessionUsd: 1e6 } }),
  providers: { p: provider },
  sinks: [countingSink],
});
const unlimitedSlow = createAiClient({ providers: { p: slow }, sinks: [countingSink] });
const limitedSlow = createAiClient({
  policy: definePolicy({ capabilities: { stt: { rateLimit: { maxConcurrent: 1_000, perSecond: 100_000 } } } }),
  providers: { p: slow },
  sinks: [countingSink],
});
const cockatielPolicy = wrap(
  retry(handleAll, { maxAttempts: 1, backoff: new ExponentialBackoff() }),
  circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(5) }),
  timeout(8_000, TimeoutStrategy.Aggressive),
);

const results: { name: string; us: number[] }[] = [];
results.push({ name: 'bare provider call', us: await timeSequential(() => provider.transcribe(req, ctx), N) });
results.push({ name: 'cockatiel retry+breaker+timeout', us: await timeSequential(() => cockatielPolicy.execute(({ signal }) => provider.transcribe(req, { ...ctx, signal })), N) });
results.push({ name: 'korean-together full stack', us: await timeSequential(() => full.stt.transcribe(req), N) });
results.push({ name: 'korean-together + budget (memory)', us: await timeSequential(() => budgeted.stt.transcribe(req, { sessionId: 's' }), N) });
const LOAD_CALLS = 10;
const concurrentBare = await overheadUnderLoad((r) => unlimitedSlow.stt.transcribe(r), 1_000, LOAD_CALLS);
const concurrent = await overheadUnderLoad((r) => limitedSlow.stt.transcribe(r), 1_000, LOAD_CALLS);
// The same limit on bottleneck's local datastore (what `limiterBackend` selects), for comparison.
const bottleneckSlow = createAiClient({
  policy: definePolicy({ capabilities: { stt: { rateLimit: { maxConcurrent: 1_000, perSecond: 100_000 } } } }),
  providers: { p: slow },
  sinks: [countingSink],
  limiterBackend: () => ({}),
});
const concurrentBottleneck = await overheadUnderLoad((r) => bottleneckSlow.stt.transcribe(r), 1_000, 2);
await Promise.all([full.close(), budgeted.close(), unlimitedSlow.close(), limitedSlow.close(), bottleneckSlow.close()]);

const bareP50 = quantile(results[0]!.us, 0.5);
const fmt = (x: number) => x.toFixed(1);
const columns = ['variant', 'p50 us', 'p99 us', 'overhead p50 us (vs bare)'];
const table: (string | number)[][] = results.map((r) => [r.name, fmt(quantile(r.us, 0.5)), fmt(quantile(r.us, 0.99)), fmt(quantile(r.us, 0.5) - bareP50)]);
const cColumns = ['1,000 calls in flight (overhead = latency - time in provider)', 'p50 us', 'p99 us'];
const cTable = [
  ['full stack, no rate limit', fmt(quantile(concurrentBare, 0.5)), fmt(quantile(concurrentBare, 0.99))],
  ['full stack, rateLimit { maxConcurrent: 1000, perSecond: 100000 }', fmt(quantile(concurrent, 0.5)), fmt(quantile(concurrent, 0.99))],
  ['same limit on bottleneck (local datastore), 2 calls per worker', fmt(quantile(concurrentBottleneck, 0.5)), fmt(quantile(concurrentBottleneck, 0.99))],
];
printTable(columns, table);
console.log();
printTable(cColumns, cTable);
console.log(`\n${rows} usage rows written`);

const fullP50 = quantile(results[2]!.us, 0.5) - bareP50;
const limitedP99 = quantile(concurrent, 0.99);
writeBenchSection(
  'core-overhead',
  `## Core: per-call overhead of the policy stack

${machineLine()}. ${N} sequential calls per variant around a provider that answers at once
(\`pnpm --filter @korean-together/core bench\`). The full stack validates the request, walks
the chain, arms a deadline and an attempt timeout, checks the breaker, prices the attempt and
writes a usage row to a sink.

${markdownTable(columns, table)}

1,000 workers each make ${LOAD_CALLS} calls back to back (after one warm-up call) to a provider
that takes ${PROVIDER_MS} ms, so 1,000 calls are in flight all the time; a call's overhead is its
latency minus the time measured inside the provider. The limiter is configured but never full:
this is its bookkeeping cost, plus the event-loop queueing that 1,000 concurrent calls cause
anyway (the first row). The last row is why local limits do not run on bottleneck: its local
datastore yields to the event loop several times per job.

${markdownTable(cColumns, cTable)}

Goals: overhead at most 25 us p50 without a rate limit (measured: ${fmt(fullP50)} us, ${fullP50 <= 25 ? 'met' : 'NOT met'});
at most 1 ms p99 with a rate limit at 1,000 calls in flight (measured: ${fmt(limitedP99 / 1000)} ms, ${limitedP99 <= 1_000 ? 'met' : 'NOT met'}).
`,
);
