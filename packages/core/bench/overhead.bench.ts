// Per-call overhead of the full policy stack around an instant provider, against the bare call,
// against the least any call must do (the floor: an AbortController with its signal, a timer and
// two UUIDs) and against cockatiel's retry + breaker + timeout, for eval and STT. Then the same
// at 1,000 calls in flight. The machine is shared, so every variant runs in each of several
// alternating rounds (order rotated per round) in this one process, and the figures that
// decide are ratios taken within a round.
// Run: pnpm --filter @korean-together/core exec tsx bench/overhead.bench.ts (also part of `pnpm bench`)
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { ConsecutiveBreaker, ExponentialBackoff, TimeoutStrategy, circuitBreaker, handleAll, retry, timeout, wrap } from 'cockatiel';
import { createAiClient, definePolicy, type AiClient, type AttemptContext, type EvalProvider, type EvalRequest, type SttProvider, type UsageRecord } from '../src/index.js';
import { machineLine, markdownTable, printTable, writeBenchSection } from '../../../scripts/bench-report.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 4_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12);
const WARMUP = 5_000;
const LOAD_ROUNDS = Number(process.env.BENCH_LOAD_ROUNDS ?? 3);
const LOAD_CALLS = 10;
const IN_FLIGHT = 1_000;
const PROVIDER_MS = 20;
/** A rate limit that is configured but never binds, even when all 1,000 calls start within one millisecond. */
const LIMIT = { maxConcurrent: 1_000, perSecond: 2_000_000 };

const good = { score: 85, passFail: true, primaryErrorType: null, errors: [], suggestions: ['계속 연습하세요'], rationale: 'Correct and polite.' };
const sttReq = { audio: new Uint8Array(3_200), encoding: 'LINEAR16' as const, sampleRateHertz: 16_000 };
const evalReq: EvalRequest = { prompt: '자기소개를 하세요', learnerAnswer: '저는 학생입니다', targetFormality: 'hapsyo' };
const ctx: AttemptContext = { signal: new AbortController().signal, attempt: 1, deadlineAt: 0, attemptDeadlineAt: 0 };

let rows = 0;
const countingSink = { write: (_r: UsageRecord) => void rows++, flush: async () => {}, close: async () => {} };

type Capability = 'stt' | 'eval';
type Timed = { insideUs?: number };

/**
 * A provider that answers at once, or after PROVIDER_MS noting the time it spent on the request
 * object. `readsSignal`: it looks at its AbortSignal first, as every network adapter does (it
 * hands it to fetch or gRPC); the client makes that signal only for a provider that reads it.
 */
function providers(slow: boolean, readsSignal = false): { stt: SttProvider; eval: EvalProvider } {
  let aborted = 0;
  const wait = async (r: Timed, c: AttemptContext) => {
    if (readsSignal && c.signal.aborted) aborted++;
    if (!slow) return;
    const t = process.hrtime.bigint();
    await new Promise((resolve) => setTimeout(resolve, PROVIDER_MS));
    r.insideUs = Number(process.hrtime.bigint() - t) / 1_000;
  };
  return {
    stt: { capability: 'stt', name: 'p', modelId: 'whisper-1', transcribe: async (r, c) => (await wait(r as Timed, c), { transcript: '네', audioDurationMs: 1_000 + aborted }) },
    eval: { capability: 'eval', name: 'p', modelId: 'gemini-2.5-flash', evaluate: async (r, c) => (await wait(r as Timed, c), { output: good, tokensIn: 120 + aborted, tokensOut: 60 }) },
  };
}

function callOf(client: AiClient, capability: Capability, opts?: { sessionId: string }) {
  return capability === 'stt' ? (r: unknown) => client.stt.transcribe(r as typeof sttReq, opts) : (r: unknown) => client.eval.evaluate(r as EvalRequest, opts);
}

/** Every way of making one call that is measured, for one provider set (`reading`: the same providers, reading their signal). */
function variants(p: { stt: SttProvider; eval: EvalProvider }, reading: { stt: SttProvider; eval: EvalProvider }, capability: Capability) {
  const provider = (r: unknown, c: AttemptContext): Promise<unknown> => (capability === 'stt' ? p.stt.transcribe(r as typeof sttReq, c) : p.eval.evaluate(r as EvalRequest, c));
  const policy = definePolicy({});
  const full = createAiClient({ policy, providers: { p: p[capability] }, sinks: [countingSink] });
  const budget = createAiClient({ policy: definePolicy({ budget: { perDayUsd: 1e6, perSessionUsd: 1e6 } }), providers: { p: p[capability] }, sinks: [countingSink] });
  const fullSignal = createAiClient({ policy, providers: { p: reading[capability] }, sinks: [countingSink] });
  const limited = createAiClient({
    policy: definePolicy({ capabilities: { [capability]: { rateLimit: LIMIT } } }),
    providers: { p: p[capability] },
    sinks: [countingSink],
  });
  const cockatiel = wrap(
    retry(handleAll, { maxAttempts: 1, backoff: new ExponentialBackoff() }),
    circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(5) }),
    timeout(8_000, TimeoutStrategy.Aggressive),
  );
  const noop = () => {};
  const ids: string[] = [];
  return {
    clients: [full, budget, limited, fullSignal],
    run: {
      bare: (r: unknown) => provider(r, ctx),
      floor: async (r: unknown) => {
        const controller = new AbortController();
        const timer = setTimeout(noop, 8_000);
        ids.push(randomUUID(), randomUUID());
        try {
          return await provider(r, { ...ctx, signal: controller.signal });
        } finally {
          clearTimeout(timer);
          ids.length = 0;
        }
      },
      cockatiel: (r: unknown) => cockatiel.execute(({ signal }) => provider(r, { ...ctx, signal })),
      full: callOf(full, capability),
      fullSignal: callOf(fullSignal, capability),
      budget: callOf(budget, capability, { sessionId: 's' }),
      limited: callOf(limited, capability),
    },
  };
}

type VariantName = 'bare' | 'floor' | 'cockatiel' | 'full' | 'fullSignal' | 'budget' | 'limited';
const LABEL: Record<VariantName, string> = {
  bare: 'bare provider call',
  floor: 'floor: AbortController + signal, timer, two UUIDs',
  cockatiel: 'cockatiel retry + breaker + timeout',
  full: 'korean-together full stack',
  fullSignal: 'korean-together full stack, provider reads ctx.signal',
  budget: 'korean-together full stack + budget (memory store)',
  limited: 'korean-together full stack + rate limit (local, never full)',
};

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const median = (xs: number[]): number => quantile(xs, 0.5);
const fmt = (x: number, d = 1) => x.toFixed(d);
const rotate = <T>(xs: T[], by: number): T[] => xs.map((_, i) => xs[(i + by) % xs.length]!);

/** Times `n` awaited calls one after another; returns per-call us and the mean (GC included). */
async function timeSequential(fn: (r: unknown) => Promise<unknown>, req: unknown, n: number): Promise<{ us: number[]; meanUs: number }> {
  const us = new Array<number>(n);
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn(req);
    us[i] = Number(process.hrtime.bigint() - t) / 1_000;
  }
  return { us, meanUs: Number(process.hrtime.bigint() - start) / 1_000 / n };
}

/**
 * Keeps IN_FLIGHT calls running at once (each worker calls again as soon as its call ends) and
 * returns each call's overhead: its latency minus the time measured inside the provider, us.
 * The first call of each worker warms up and is not counted.
 */
async function overheadUnderLoad(call: (r: unknown) => Promise<unknown>, base: object, callsPerWorker: number): Promise<number[]> {
  const out: number[] = [];
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (let i = 0; i <= callsPerWorker; i++) {
        const r: Timed = { ...base };
        const t = process.hrtime.bigint();
        await call(r);
        const total = Number(process.hrtime.bigint() - t) / 1_000;
        if (i > 0) out.push(total - (r.insideUs ?? 0));
      }
    }),
  );
  return out;
}

const load1 = os.loadavg()[0]!;
const capabilities: Capability[] = ['eval', 'stt'];
const SEQUENTIAL: VariantName[] = ['bare', 'floor', 'cockatiel', 'full', 'fullSignal', 'budget'];
const LOADED: VariantName[] = ['floor', 'cockatiel', 'full', 'fullSignal', 'budget', 'limited'];

const seqColumns = ['capability', 'variant', 'p50 us', 'p99 us', 'mean us', 'overhead p50 us', 'overhead mean us', 'ratio to cockatiel (p50)', 'ratio to cockatiel (mean)'];
const seqTable: (string | number)[][] = [];
const loadColumns = ['capability', `${IN_FLIGHT} in flight`, 'overhead p50 us', 'overhead p99 us', 'ratio to cockatiel (p50)'];
const loadTable: (string | number)[][] = [];
const goals: string[] = [];
const closers: AiClient[] = [];

for (const capability of capabilities) {
  const req = capability === 'stt' ? sttReq : evalReq;
  const v = variants(providers(false), providers(false, true), capability);
  closers.push(...v.clients);
  for (const name of SEQUENTIAL) await timeSequential(v.run[name], req, WARMUP);
  const perRound: Record<VariantName, { p50: number; mean: number; us: number[] }[]> = { bare: [], floor: [], cockatiel: [], full: [], fullSignal: [], budget: [], limited: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of rotate(SEQUENTIAL, round)) {
      const { us, meanUs } = await timeSequential(v.run[name], req, CALLS);
      perRound[name].push({ p50: median(us), mean: meanUs, us });
    }
  }
  // Overheads and ratios per round (bare and cockatiel measured in the same round), then their medians.
  const over = (name: VariantName, k: 'p50' | 'mean', i: number) => perRound[name][i]![k] - perRound.bare[i]![k];
  const rounds = [...Array(ROUNDS).keys()];
  for (const name of SEQUENTIAL) {
    const all = perRound[name].flatMap((r) => r.us);
    const oP50 = median(rounds.map((i) => over(name, 'p50', i)));
    const oMean = median(rounds.map((i) => over(name, 'mean', i)));
    const ratio = (k: 'p50' | 'mean') => median(rounds.map((i) => over(name, k, i) / over('cockatiel', k, i)));
    const showRatio = name !== 'bare' && name !== 'cockatiel';
    seqTable.push([
      capability,
      LABEL[name],
      fmt(median(perRound[name].map((r) => r.p50))),
      fmt(quantile(all, 0.99)),
      fmt(median(perRound[name].map((r) => r.mean))),
      name === 'bare' ? '0' : fmt(oP50),
      name === 'bare' ? '0' : fmt(oMean),
      showRatio ? fmt(ratio('p50'), 2) : '',
      showRatio ? fmt(ratio('mean'), 2) : '',
    ]);
    if (name === 'full' || name === 'fullSignal') goals.push(`${capability} ${name === 'full' ? 'full stack' : 'full stack, signal read'}: ${fmt(ratio('p50'), 2)} (p50) / ${fmt(ratio('mean'), 2)} (mean), goal <= 1.0 (aim 0.3): ${ratio('p50') <= 1 && ratio('mean') <= 1 ? 'met' : 'NOT met'}`);
    if (name === 'budget') goals.push(`${capability} with a budget: ${fmt(ratio('p50'), 2)} (p50) / ${fmt(ratio('mean'), 2)} (mean), goal <= 1.3: ${ratio('p50') <= 1.3 && ratio('mean') <= 1.3 ? 'met' : 'NOT met'}`);
  }

  const slow = variants(providers(true), providers(true, true), capability);
  closers.push(...slow.clients);
  const loadRounds: Record<VariantName, { p50: number; p99: number }[]> = { bare: [], floor: [], cockatiel: [], full: [], fullSignal: [], budget: [], limited: [] };
  for (let round = 0; round < LOAD_ROUNDS; round++) {
    for (const name of rotate(LOADED, round)) {
      const o = await overheadUnderLoad(slow.run[name], req, LOAD_CALLS);
      loadRounds[name].push({ p50: median(o), p99: quantile(o, 0.99) });
    }
  }
  for (const name of LOADED) {
    const ratio = median(loadRounds[name].map((r, i) => r.p50 / loadRounds.cockatiel[i]!.p50));
    loadTable.push([
      capability,
      LABEL[name],
      fmt(median(loadRounds[name].map((r) => r.p50))),
      fmt(median(loadRounds[name].map((r) => r.p99))),
      name === 'cockatiel' ? '' : fmt(ratio, 2),
    ]);
  }
}

// The same limit on bottleneck's local datastore (what `limiterBackend` selects), for comparison: one round, 2 calls per worker.
const bottleneckSlow = createAiClient({
  policy: definePolicy({ capabilities: { stt: { rateLimit: LIMIT } } }),
  providers: { p: providers(true).stt },
  sinks: [countingSink],
  limiterBackend: () => ({}),
});
const bottleneck = await overheadUnderLoad((r) => bottleneckSlow.stt.transcribe(r as typeof sttReq), sttReq, 2);
loadTable.push(['stt', 'same rate limit on bottleneck (local datastore), 2 calls per worker', fmt(median(bottleneck)), fmt(quantile(bottleneck, 0.99)), '']);
await Promise.all([...closers, bottleneckSlow].map((c) => c.close()));

printTable(seqColumns, seqTable);
console.log();
printTable(loadColumns, loadTable);
console.log(`\n${goals.join('\n')}\n${rows} usage rows written`);

writeBenchSection(
  'core-overhead',
  `## Core: per-call overhead of the policy stack

${machineLine()}; 1-minute load average ${fmt(load1, 2)} when the run started (the machine is shared).
Command: \`pnpm --filter @korean-together/core exec tsx bench/overhead.bench.ts\` (part of \`pnpm bench\`).

Around a provider that answers at once: ${ROUNDS} alternating rounds in one process (the order of the
variants rotated each round), ${CALLS} awaited calls per variant per round, after ${WARMUP} warm-up calls each.
The full stack validates the request and the call options, walks the chain, arms the attempt
timeout inside the call's deadline, checks the breaker, checks the eval output, prices the
attempt exactly and writes one usage row (with its own UUID) to a sink. The floor is what any
guarded call must do at least: an AbortController with its signal, a timer and two UUIDs around
the same provider. The client makes an attempt's AbortSignal only when the provider reads
\`ctx.signal\` (making one costs about 1.6 us on Node 20): the instant provider does not; in the
"reads ctx.signal" rows it does, as every network adapter does.

Overheads are against the bare call of the same round. A ratio is the overhead over cockatiel's
(retry + breaker + timeout) in the same round, median over the rounds. p50 leaves garbage
collection out; the mean (a round's time over its calls) keeps it in.

${markdownTable(seqColumns, seqTable)}

Ratios to cockatiel:

${goals.map((g) => `- ${g}`).join('\n')}

At ${IN_FLIGHT} calls in flight: ${IN_FLIGHT} workers each make ${LOAD_CALLS} calls back to back (after one warm-up
call) to a provider that takes ${PROVIDER_MS} ms; a call's overhead is its latency minus the time measured inside
the provider, so it includes waiting behind the other calls' work on the event loop. ${LOAD_ROUNDS} alternating
rounds, medians over the rounds. The rate limit (maxConcurrent 1000, perSecond 2,000,000) is configured but
never full, even when the ${IN_FLIGHT} providers' timers fire in the same millisecond and their calls start again
together: this is its bookkeeping cost (at perSecond 100,000, 100 starts a millisecond, such a burst waits for
the limit). Cockatiel adds an abort listener per call to one shared signal (Node warns past 10 of them); the
client adds none. The last row is why local limits do not run on bottleneck: its local datastore yields to
the event loop several times per job and serves about 400 jobs a second at ${IN_FLIGHT} in flight, whatever
the rate. The row does not measure the rate limit: bottleneck's minTime counts whole milliseconds, so perSecond
2,000,000 is a reservoir of 20,000 starts refilled every 10 ms, and the same calls with no rate at all (minTime 0)
or at perSecond 1000 (minTime 1) measure the same.

${markdownTable(loadColumns, loadTable)}
`,
);
