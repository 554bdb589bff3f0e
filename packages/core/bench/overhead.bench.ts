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

/** Starts `inFlight` calls at once and times each from start to settle, in microseconds (sorted). */
async function timeConcurrent(fn: () => Promise<unknown>, inFlight: number, rounds: number): Promise<number[]> {
  const out: number[] = [];
  for (let r = 0; r < rounds + 1; r++) {
    const times = await Promise.all(
      Array.from({ length: inFlight }, async () => {
        const t = process.hrtime.bigint();
        await fn();
        return Number(process.hrtime.bigint() - t) / 1_000;
      }),
    );
    if (r > 0) out.push(...times); // first round warms up
  }
  return out.sort((a, b) => a - b);
}

const full = createAiClient({ providers: { p: provider }, sinks: [countingSink] });
const budgeted = createAiClient({
  policy: definePolicy({ budget: { perDayUsd: 1e6, perSessionUsd: 1e6 } }),
  providers: { p: provider },
  sinks: [countingSink],
});
const limited = createAiClient({
  policy: definePolicy({ capabilities: { stt: { rateLimit: { maxConcurrent: 1_000 } } } }),
  providers: { p: provider },
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
const concurrent = await timeConcurrent(() => limited.stt.transcribe(req), 1_000, 5);
const concurrentBare = await timeConcurrent(() => full.stt.transcribe(req), 1_000, 5);
await Promise.all([full.close(), budgeted.close(), limited.close()]);

const bareP50 = quantile(results[0]!.us, 0.5);
const fmt = (x: number) => x.toFixed(1);
const columns = ['variant', 'p50 us', 'p99 us', 'overhead p50 us (vs bare)'];
const table: (string | number)[][] = results.map((r) => [r.name, fmt(quantile(r.us, 0.5)), fmt(quantile(r.us, 0.99)), fmt(quantile(r.us, 0.5) - bareP50)]);
const cColumns = ['1,000 calls in flight', 'p50 us', 'p99 us'];
const cTable = [
  ['full stack, no rate limit', fmt(quantile(concurrentBare, 0.5)), fmt(quantile(concurrentBare, 0.99))],
  ['full stack, rateLimit maxConcurrent 1000 (bottleneck)', fmt(quantile(concurrent, 0.5)), fmt(quantile(concurrent, 0.99))],
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

Each of 1,000 concurrent calls timed from start to settle (5 rounds, after a warm-up round):

${markdownTable(cColumns, cTable)}

Goals: overhead at most 25 us p50 without a rate limit (measured: ${fmt(fullP50)} us, ${fullP50 <= 25 ? 'met' : 'NOT met'});
at most 1 ms p99 with a rate limit at 1,000 calls in flight (measured: ${fmt(limitedP99 / 1000)} ms, ${limitedP99 <= 1_000 ? 'met' : 'NOT met'}).
`,
);
