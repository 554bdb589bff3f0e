import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultPolicy, defaultPriceTable, definePolicy } from '@korean-together/core';
import { AI_POLICY_DOC_PATH, capabilityWords, formatPrice, renderAiPolicyDoc } from './generate-ai-policy.js';
import { tutoringPolicy } from '../server/src/tutoring-policy.js';

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
    expect(words).toContain('1. `flash`');
    expect(words).toContain('2. `pro`');
    expect(words).toContain(`after ${policy.capabilities.eval.hedgeAfterMs! / 1000} s`);
    const noHedge = capabilityWords('eval', definePolicy({}).capabilities.eval, defaultPriceTable);
    expect(noHedge).toContain('**Hedging**: off');
    expect(noHedge).toContain('Every provider of this capability');
    expect(defaultPolicy.capabilities.eval.hedgeAfterMs).toBeUndefined();
  });
});
