import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultPolicy, defaultPriceTable, definePolicy } from '@korean-together/core';
import { AI_POLICY_DOC_PATH, capabilityWords, formatPrice, renderAiPolicyDoc } from './generate-ai-policy.js';
import { tutoringPolicy } from '../server/src/tutoring-policy.js';
import { renderSimulationSection, SIMULATION_PROFILES, simulateDefaults } from './simulation-section.js';

describe('docs/AI_POLICY.md', () => {
  it('is exactly what the generator writes from defaultPolicy, defaultPriceTable and the server policy', () => {
    const committed = readFileSync(AI_POLICY_DOC_PATH, 'utf8');
    // On failure: node --import tsx examples/docs-check/generate-ai-policy.ts
    expect(committed).toBe(renderAiPolicyDoc());
  });

  it('changes when a default changes (the check can fail)', () => {
    const changed = definePolicy({ capabilities: { stt: { deadlineMs: 16_000 } } });
    expect(renderAiPolicyDoc(tutoringPolicy(), changed)).not.toBe(renderAiPolicyDoc());
    expect(renderAiPolicyDoc(tutoringPolicy(), changed)).toContain('| `deadlineMs` | ms | 16000 | 10000 | 20000 |');
  });

  it('names every price row with its source and date', () => {
    const doc = renderAiPolicyDoc();
    for (const row of defaultPriceTable.rows) {
      expect(doc).toContain(`| ${row.capability} | \`${row.model}\` | ${formatPrice(row)} |`);
      expect(doc).toContain(row.source);
    }
    expect(doc).toContain(`version ${defaultPriceTable.version}`);
  });

  it('states each capability of the server policy in plain words, from the policy values', () => {
    const policy = tutoringPolicy();
    const words = capabilityWords('eval', policy.capabilities.eval, defaultPriceTable);
    // The cross-vendor chain: Gemini API, then Vertex AI, then OpenAI, each with its own prices.
    expect(words).toContain('1. `flash`: Google Gemini 2.5 Flash, model `gemini-2.5-flash` ($0.30 per 1M input tokens');
    expect(words).toContain('2. `flash-vertex`: Google Gemini 2.5 Flash on Vertex AI, model `gemini-2.5-flash` ($0.30 per 1M input tokens');
    expect(words).toContain('3. `gpt-4.1-mini`: OpenAI GPT-4.1 mini (Chat Completions), model `gpt-4.1-mini` ($0.40 per 1M input tokens, $0.10 per 1M cached input tokens and $1.60 per 1M output tokens)');
    expect(words).not.toContain('`pro`');
    expect(words).toContain(`after ${policy.capabilities.eval.hedgeAfterMs! / 1000} s`);
    const noHedge = capabilityWords('eval', definePolicy({}).capabilities.eval, defaultPriceTable);
    expect(noHedge).toContain('**Hedging**: off');
    expect(noHedge).toContain('Every provider of this capability');
    expect(defaultPolicy.capabilities.eval.hedgeAfterMs).toBeUndefined();
  });

  it('prices the worked examples on every step of the policy\'s chains, so a new fallback is priced too', () => {
    const doc = renderAiPolicyDoc();
    expect(doc).toContain('| grade an answer: 900 tokens in, 300 out | `gemini-2.5-flash` | 0.001020 |');
    expect(doc).toContain('| the same on fallback `flash-vertex` | `gemini-2.5-flash` | 0.001020 |');
    // gpt-4.1-mini: 900 x $0.40 + 300 x $1.60 per 1M.
    expect(doc).toContain('| the same on fallback `gpt-4.1-mini` | `gpt-4.1-mini` | 0.000840 |');
    const base = tutoringPolicy();
    const withPro = definePolicy({ ...base, capabilities: { ...base.capabilities, eval: { ...base.capabilities.eval, chain: ['flash', 'pro'] } } });
    const proDoc = renderAiPolicyDoc(withPro);
    expect(proDoc).toContain('| the same on fallback `pro` | `gemini-2.5-pro` | 0.004125 |');
    expect(proDoc).not.toContain('fallback `gpt-4.1-mini`');
  });

  it('has the simulated section: defaultPolicy under the stated fault profile, and it moves when the profile does', async () => {
    const doc = readFileSync(AI_POLICY_DOC_PATH, 'utf8');
    const section = renderSimulationSection(await simulateDefaults());
    expect(doc).toContain(section);
    expect(section).toContain('`flash` (eval, `gemini-2.5-flash`): latency lognormal, median 1200 ms, sigma 0.4; 2% hangs, 3% HTTP 503');
    const worse = { ...SIMULATION_PROFILES, flash: { ...SIMULATION_PROFILES.flash!, faults: [{ kind: 'hang' as const, probability: 0.2 }] } };
    const changed = renderSimulationSection(await simulateDefaults(defaultPolicy, worse), worse);
    expect(changed).not.toBe(section);
    expect(changed).toContain('20% hangs');
  });
});
