// The simulation is the engine: one scenario run both ways, simulatePolicy on the virtual clock
// and createAiClient in real time against the Gemini emulator, with the same fault plan (the
// real run replays the simulator's own per-attempt draws, profileSampler, by sending each
// attempt to an emulated model whose fault rule is that draw). They must agree on success rate
// within 1 percentage point and on p50 / p95 latency within 10%.
import { createAiClient, isAiError, type EvalProvider, type EvalRequest } from '@korean-together/core';
import { percentile, profileSampler, simulatePolicy, type ProviderProfiles } from '@korean-together/core/testing';
import { geminiEvaluator } from '@korean-together/providers';
import { describe, expect, it } from 'vitest';
import { useEmulators } from '../../../test-support/emulators.js';

const emu = useEmulators();

const CALLS = 600;
const CONCURRENCY = 20;
const SEED = 11;
const policy = {
  capabilities: {
    eval: {
      chain: ['flash', 'lite'],
      attemptTimeoutMs: 700,
      deadlineMs: 3000,
      retry: { maxAttempts: 1 },
      // Breakers off in effect: when one opens depends on how calls interleave, which real time does not repeat.
      circuitBreaker: { failureThreshold: 10_000 },
    },
  },
};
const profiles: ProviderProfiles = {
  flash: { latency: { kind: 'fixed', ms: 300 }, faults: [{ kind: 'hang', probability: 0.06 }, { kind: 'status', status: 503, probability: 0.1, afterMs: 0 }] },
  lite: { latency: { kind: 'fixed', ms: 200 }, modelId: 'gemini-2.5-flash-lite', faults: [{ kind: 'status', status: 503, probability: 0.2, afterMs: 0 }] },
};
const req: EvalRequest = { prompt: '자기소개를 하세요.', learnerAnswer: '저는 학생입니다.', expectedAnswer: '저는 학생입니다.', targetFormality: 'hapsyo' };

/**
 * A real Gemini adapter per outcome: the healthy model answers after the profile's latency (a
 * delay rule), the faulty ones hang or answer 503 (status rules); each attempt goes to the one
 * the simulator's draw for that attempt names.
 */
function replaying(key: string, modelId: string): EvalProvider {
  const draw = profileSampler({ policy, profiles, key, seed: SEED });
  const latency = profiles[key]!.latency as { ms: number };
  const models = { ok: `gemini-sim-${key}-ok`, hang: `gemini-sim-${key}-hang`, status: `gemini-sim-${key}-503` };
  emu.faults.add({ target: 'gemini', model: models.ok, fault: { kind: 'delay', ms: latency.ms } });
  emu.faults.add({ target: 'gemini', model: models.hang, fault: { kind: 'hang' } });
  emu.faults.add({ target: 'gemini', model: models.status, fault: { kind: 'status', status: 503 } });
  const adapters = Object.fromEntries(Object.entries(models).map(([k, model]) => [k, geminiEvaluator({ apiKey: 'emulator', model, httpOptions: emu.gemini.httpOptions })]));
  return {
    capability: 'eval',
    name: 'gemini',
    modelId,
    evaluate(r, ctx) {
      const { fault } = draw(0);
      return adapters[fault ? (fault.kind === 'hang' ? 'hang' : 'status') : 'ok']!.evaluate(r, ctx);
    },
  };
}

describe('simulatePolicy agrees with the real engine on the emulators', () => {
  it(`${CALLS} calls: success rate within 1 pp, p50 and p95 within 10%`, { timeout: 60_000 }, async () => {
    const simulated = await simulatePolicy({ policy, profiles, workload: { calls: CALLS, concurrency: CONCURRENCY }, seed: SEED });

    const client = createAiClient({ policy, providers: { flash: replaying('flash', 'gemini-2.5-flash'), lite: replaying('lite', 'gemini-2.5-flash-lite') } });
    const latencies: number[] = [];
    let ok = 0;
    let next = 0;
    const worker = async () => {
      while (next < CALLS) {
        next++;
        const t0 = performance.now();
        try {
          await client.eval.evaluate(req);
          ok++;
        } catch (e) {
          expect(isAiError(e)).toBe(true);
        }
        latencies.push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await client.close();
    latencies.sort((a, b) => a - b);
    const real = { successRate: ok / CALLS, p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95) };

    const sim = simulated.eval!;
    const figures = JSON.stringify({ real, simulated: { successRate: sim.successRate, p50: sim.latency.p50, p95: sim.latency.p95 } });
    // The scenario is not trivial: faults move calls to the second model and some calls fail.
    expect(sim.fallbacks).toBeGreaterThan(CALLS * 0.1);
    expect(sim.successRate).toBeLessThan(0.99);
    expect(Math.abs(real.successRate - sim.successRate), figures).toBeLessThanOrEqual(0.01);
    expect(Math.abs(real.p50 - sim.latency.p50) / sim.latency.p50, figures).toBeLessThanOrEqual(0.1);
    expect(Math.abs(real.p95 - sim.latency.p95) / sim.latency.p95, figures).toBeLessThanOrEqual(0.1);
  });
});
