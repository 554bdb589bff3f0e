// The generated "simulated" section of docs/AI_POLICY.md: defaultPolicy run by simulatePolicy
// (the real engine on a virtual clock) under the fault profile stated here, so the doc says
// what the defaults do to the learner's wait and to the bill when providers misbehave.
import { defaultPolicy, type AiPolicy } from '@korean-together/core';
import { simulatePolicy, type ProviderProfiles, type SimulationReport, type Workload } from '@korean-together/core/testing';

export const SIMULATION_SEED = 1;

/** The stated fault profile. Chains are empty in defaultPolicy: every provider of a capability, in this order. */
export const SIMULATION_PROFILES: ProviderProfiles = {
  flash: { capability: 'eval', modelId: 'gemini-2.5-flash', latency: { kind: 'lognormal', medianMs: 1200, sigma: 0.4 }, faults: [{ kind: 'hang', probability: 0.02 }, { kind: 'status', status: 503, probability: 0.03 }] },
  lite: { capability: 'eval', modelId: 'gemini-2.5-flash-lite', latency: { kind: 'normal', meanMs: 700, stdDevMs: 150 } },
  google: { capability: 'stt', modelId: 'google-stt/latest_long', latency: { kind: 'lognormal', medianMs: 600, sigma: 0.3 }, faults: [{ kind: 'retry_after', retryAfterMs: 1000, probability: 0.02 }] },
  whisper: { capability: 'stt', modelId: 'whisper-1', latency: { kind: 'fixed', ms: 900 } },
  wavenet: { capability: 'tts', modelId: 'ko-KR-Wavenet-A', latency: { kind: 'lognormal', medianMs: 300, sigma: 0.3 }, faults: [{ kind: 'status', status: 503, probability: 0.01 }] },
};

export const SIMULATION_WORKLOAD: Workload = { lessons: 2000, lesson: { stt: 5, eval: 5, tts: 5 }, concurrency: 50 };

export function simulateDefaults(policy: AiPolicy = defaultPolicy, profiles: ProviderProfiles = SIMULATION_PROFILES): Promise<SimulationReport> {
  return simulatePolicy({ policy, profiles, workload: SIMULATION_WORKLOAD, seed: SIMULATION_SEED });
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const usd = (x: number) => `$${x.toFixed(6)}`;

function describeFaults(profiles: ProviderProfiles): string[] {
  return Object.entries(profiles).map(([key, p]) => {
    const l = p.latency;
    const latency = l.kind === 'fixed' ? `${l.ms} ms` : l.kind === 'normal' ? `normal, mean ${l.meanMs} ms, sd ${l.stdDevMs} ms` : l.kind === 'lognormal' ? `lognormal, median ${l.medianMs} ms, sigma ${l.sigma}` : `${l.ms.length} samples`;
    const faults = (p.faults ?? []).map((f) => `${f.probability * 100}% ${f.kind === 'status' ? `HTTP ${f.status}` : f.kind === 'retry_after' ? `429 with Retry-After ${f.retryAfterMs} ms` : f.kind === 'hang' ? 'hangs' : 'schema-breaking answers'}`);
    return `- \`${key}\` (${p.capability}, \`${p.modelId}\`): latency ${latency}${faults.length ? `; ${faults.join(', ')}` : '; no faults'}`;
  });
}

/** The section's markdown. */
export function renderSimulationSection(report: SimulationReport, profiles: ProviderProfiles = SIMULATION_PROFILES): string {
  const rows = (['stt', 'eval', 'tts'] as const).map((c) => {
    const r = report[c]!;
    return `| ${c} | ${r.calls} | ${r.latency.p50} | ${r.latency.p95} | ${r.latency.p99} | ${r.latency.max} | ${pct(r.successRate)} | ${r.attemptsPerCall.toFixed(3)} | ${r.fallbacks} | ${r.breakerOpens} | ${usd(r.costPerCallUsd)} |`;
  });
  return [
    '## The defaults under faults (simulated)',
    '',
    `\`defaultPolicy\` run by \`simulatePolicy\` (\`@korean-together/core/testing\`: the real engine on a virtual clock) for`,
    `${SIMULATION_WORKLOAD.lessons} lessons of 5 STT, 5 eval and 5 TTS calls each, ${SIMULATION_WORKLOAD.concurrency} lessons at a time, seed ${SIMULATION_SEED}, under this fault profile`,
    '(chains empty, so each capability tries its providers in this order):',
    '',
    ...describeFaults(profiles),
    '',
    '| capability | calls | p50 ms | p95 ms | p99 ms | max ms | success | attempts/call | fallbacks | breaker opens | cost/call |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Cost per lesson ${usd(report.costPerLessonUsd!)}; overall success ${pct(report.successRate)}. Latencies are every call's wait,`,
    'failed calls included. Run the same for your own policy and profile with `korean-together-policy simulate`',
    '(packages/core/README.md).',
    '',
  ].join('\n');
}
