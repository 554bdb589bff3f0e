// Gemini bills audio input tokens at their own price where the model has one; pricing them as
// text would under-reserve and under-report the cost of spoken answers.
import { describe, expect, it } from 'vitest';
import { Pricer } from './cost.js';
import { defaultPriceTable } from './price-table.js';

describe('audio input tokens', () => {
  it('prices Gemini audio input tokens apart where the model has an audio price', () => {
    const pricer = new Pricer(defaultPriceTable);
    // flash: 1,000 audio tokens at $1.00/1M + 500 text tokens at $0.30/1M
    expect(pricer.costMicro('eval', 'gemini-2.5-flash', { tokensIn: 1_500, audioTokensIn: 1_000 })).toBe(1_000 + 150);
    // pro has one input price: audio tokens are input tokens
    expect(pricer.costMicro('eval', 'gemini-2.5-pro', { tokensIn: 1_500, audioTokensIn: 1_000 })).toBe(Math.round(1_500 * 1.25));
  });
});
