// The simulation is the engine: one scenario run both ways, simulatePolicy on the virtual clock
// and createAiClient in real time against the Gemini emulator, with the same fault plan (the
// real run replays the simulator's own per-attempt draws, profileSampler, by sending each
// attempt to an emulated model whose fault rule is that draw: a hang, a 503, or a delay of the
// drawn lognormal latency). Retries with jittered backoff, attempt timeouts cutting slow draws
// and fallbacks all run on real time in one run and on the virtual clock in the other, so the
// engine's timing is compared, not only its fault plan. They must agree on success rate within
// 1 percentage point and on p50 / p95 latency within 10%.
import { createAiClient, isAiError, type EvalProvider, type EvalRequest } from '@korean-together/core';
import { percentile, profileSampler, simulatePolicy, type ProviderProfiles } from '@korean-together/core/testing';
import { geminiEvaluator } from '@korean-together/providers';
import { describe, expect, it } from 'vitest';
import { useEmulators } from '../../../test-support/emulators.js';

const emu = useEmulators();

const CALLS = 1000;
const CONCURRENCY = 30;
const SEED = 11;
const policy = {
  capabilities: {
    eval: {
      chain: ['flash', 'lite'],
      // A lognormal draw over 700 ms is cut by the attempt timeout and retried after a jittered backoff.
      attemptTimeoutMs: 700,
      deadlineMs: 4000,
      retry: { maxAttempts: 2, initialDelayMs: 100, maxDelayMs: 400 },
      // Breakers off in effect: when one opens depends on how calls interleave, which real time does not repeat.
      circuitBreaker: { failureThreshold: 10_000 },
    },
  },
};
const profiles: ProviderProfiles = {
  flash: { latency: { kind: 'lognormal', medianMs: 250, sigma: 0.5 }, faults: [{ kind: 'hang', probability: 0.1 }, { kind: 'status', status: 503, probability: 0.2, afterMs: 0 }] },
  lite: { latency: { kind: 'lognormal', medianMs: 200, sigma: 0.4 }, modelId: 'gemini-2.5-flash-lite', faults: [{ kind: 'status', status: 503, probability: 0.4, afterMs: 0 }] },
};
const req: EvalRequest = { prompt: '자기소개를 하세요.', learnerAnswer: '저는 학생입니다.', expectedAnswer: '저는 학생입니다.', targetFormality: 'hapsyo' };

/**
 * A real Gemini adapter per outcome: a healthy answer after the attempt's drawn latency (a delay
 * rule per whole millisecond, added the first time a draw needs it), a hang or a 503 (status
 * rules); each attempt goes to the emulated model the simulator's draw for that attempt names.
 */
function replaying(key: string, modelId: string): EvalProvider {
  const draw = profileSampler({ policy, profiles, key, seed: SEED });
  const adapter = (model: string) => geminiEvaluator({ apiKey: 'emulator', model, httpOptions: emu.gemini.httpOptions });
  const hang = adapter(`gemini-sim-${key}-hang`);
  const status = adapter(`gemini-sim-${key}-503`);
  emu.faults.add({ target: 'gemini', model: `gemini-sim-${key}-hang`, fault: { kind: 'hang' } });
  emu.faults.add({ target: 'gemini', model: `gemini-sim-${key}-503`, fault: { kind: 'status', status: 503 } });
  const delayed = new Map<number, EvalProvider>();
  const answerAfter = (ms: number): EvalProvider => {
    let a = delayed.get(ms);
    if (!a) {
      const model = `gemini-sim-${key}-d${ms}`;
      emu.faults.add({ target: 'gemini', model, fault: { kind: 'delay', ms } });
      delayed.set(ms, (a = adapter(model)));
    }
    return a;
  };
  return {
    capability: 'eval',
    name: 'gemini',
    modelId,
    evaluate(r, ctx) {
      const { fault, latencyMs } = draw(0);
      const target = fault ? (fault.kind === 'hang' ? hang : status) : answerAfter(Math.round(latencyMs));
      return target.evaluate(r, ctx);
    },
  };
}

describe('simulatePolicy agrees with the real engine on the emulators', () => {
  it(`${CALLS} calls: success rate within 1 pp, p50 and p95 within 10%`, { timeout: 90_000 }, async () => {
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
    // The scenario is not trivial: faults and slow draws are retried, move calls to the second
    // model, and some calls fail; latency varies per attempt.
    expect(sim.fallbacks).toBeGreaterThan(CALLS * 0.05);
    expect(sim.attemptsPerCall).toBeGreaterThan(1.3);
    expect(sim.successRate).toBeLessThan(0.99);
    expect(sim.latency.p95).toBeGreaterThan(sim.latency.p50 * 2);
    expect(Math.abs(real.successRate - sim.successRate), figures).toBeLessThanOrEqual(0.01);
    expect(Math.abs(real.p50 - sim.latency.p50) / sim.latency.p50, figures).toBeLessThanOrEqual(0.1);
    expect(Math.abs(real.p95 - sim.latency.p95) / sim.latency.p95, figures).toBeLessThanOrEqual(0.1);
  });
});
