// Speed of simulatePolicy: 100,000 calls through the real engine on the virtual clock (every
// timeout, backoff sleep, hedge delay and breaker cooldown virtual), for a mixed workload with
// faults. The bar: under 10 s on the project's machine. Best of a few rounds (shared machine).
// Run: pnpm --filter @korean-together/core exec tsx bench/simulate.bench.ts (also part of `pnpm bench`)
import { simulatePolicy, type SimulatePolicyOptions } from '../src/testing/index.js';
import { machineLine, markdownTable, printTable, writeBenchSection } from '../../../scripts/bench-report.js';

const CALLS = Number(process.env.BENCH_SIM_CALLS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_SIM_ROUNDS ?? 3);

const scenario = (hedge: boolean): SimulatePolicyOptions => ({
  policy: {
    capabilities: {
      eval: { chain: ['flash', 'lite'], attemptTimeoutMs: 4000, deadlineMs: 10_000, ...(hedge ? { hedgeAfterMs: 2500 } : {}) },
      stt: { chain: ['google', 'whisper'], attemptTimeoutMs: 3000, deadlineMs: 8000 },
      tts: { chain: ['wavenet'] },
    },
  },
  profiles: {
    flash: { latency: { kind: 'lognormal', medianMs: 1200, sigma: 0.4 }, faults: [{ kind: 'hang', probability: 0.02 }, { kind: 'status', status: 503, probability: 0.03 }, { kind: 'schema_violation', probability: 0.01 }] },
    lite: { latency: { kind: 'normal', meanMs: 700, stdDevMs: 150 }, modelId: 'gemini-2.5-flash-lite' },
    google: { latency: { kind: 'lognormal', medianMs: 600, sigma: 0.3 }, modelId: 'google-stt/latest_long', faults: [{ kind: 'retry_after', retryAfterMs: 1000, probability: 0.02 }] },
    whisper: { latency: { kind: 'fixed', ms: 900 } },
    wavenet: { latency: { kind: 'lognormal', medianMs: 300, sigma: 0.3 } },
  },
  workload: { calls: CALLS, concurrency: 100 },
  seed: 1,
});

const rows: (string | number)[][] = [];
for (const hedge of [false, true]) {
  const times: number[] = [];
  let p99 = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    const report = await simulatePolicy(scenario(hedge));
    times.push(performance.now() - t0);
    p99 = report.eval!.latency.p99;
  }
  const best = Math.min(...times);
  rows.push([hedge ? 'mixed, eval hedged at 2.5 s' : 'mixed (eval, stt, tts), faults', CALLS, (best / 1000).toFixed(2), Math.round(CALLS / (best / 1000)), p99]);
}
const columns = ['scenario', 'calls', 'best wall s', 'calls/s', 'eval p99 ms (virtual)'];
printTable(columns, rows);
writeBenchSection(
  'simulate',
  `## simulatePolicy: 100,000 simulated calls\n\n${machineLine()}. Best of ${ROUNDS} rounds; the real engine on the virtual clock, ` +
    `2% hangs, 3% 503s, 1% schema violations on the first eval model, 2% 429s on the first STT provider, 100 calls in flight. ` +
    `Bar: under 10 s. Run: \`pnpm --filter @korean-together/core exec tsx bench/simulate.bench.ts\`.\n\n${markdownTable(columns, rows)}`,
);
