import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { billedUnits, costMicroUsd, microToUsd, PricePlan, Pricer } from './cost.js';
import { defaultPriceTable, findPriceRows, mergePriceTables, priceTableSchema, type PriceRow } from './price-table.js';

const pricer = new Pricer(defaultPriceTable);

describe('the default price table', () => {
  it('prices each listed model exactly', () => {
    expect(pricer.costMicro('eval', 'gemini-2.5-flash', { tokensIn: 1_000_000, tokensOut: 1_000_000 })).toBe(2_800_000);
    expect(pricer.costMicro('eval', 'gemini-2.5-pro', { tokensIn: 2_000, tokensOut: 500 })).toBe(2_500 + 5_000);
    expect(pricer.costMicro('eval', 'gemini-2.5-flash-lite', { tokensIn: 10_000, tokensOut: 1_000 })).toBe(1_000 + 400);
    // whisper: $0.006/min = 100 micro-dollars per second; 2.2 s bills 3 s
    expect(pricer.costMicro('stt', 'whisper-1', { audioDurationMs: 2_200 })).toBe(300);
    // Google STT v1: $0.024/min = 400 micro/s, 1 s minimum
    expect(pricer.costMicro('stt', 'google-stt/latest_short', { audioDurationMs: 10 })).toBe(400);
    expect(pricer.costMicro('tts', 'ko-KR-Wavenet-A', { characters: 1_000 })).toBe(4_000);
    expect(pricer.costMicro('tts', 'ko-KR-Neural2-C', { characters: 1_000 })).toBe(16_000);
    expect(pricer.costMicro('tts', 'ko-KR-Chirp3-HD-Aoede', { characters: 1_000 })).toBe(30_000);
    expect(pricer.costMicro('tts', 'tts-1', { characters: 1_000 })).toBe(15_000);
    expect(pricer.costMicro('stt', 'self-hosted/faster-whisper', { audioDurationMs: 60_000 })).toBe(0);
  });

  it('prices the token-billed OpenAI transcription models by tokens, audio input apart, not by seconds', () => {
    // 800 audio + 200 prompt tokens in, 100 out: 800 x $6 + 200 x $2.50 + 100 x $10 per 1M
    const usage = { tokensIn: 1_000, audioTokensIn: 800, tokensOut: 100, audioDurationMs: 60_000 };
    expect(pricer.costMicro('stt', 'gpt-4o-transcribe', usage)).toBe(4_800 + 500 + 1_000);
    expect(pricer.costMicro('stt', 'gpt-4o-mini-transcribe', usage)).toBe(2_400 + 250 + 500);
    // The audio seconds alone bill nothing on these models: the price is in the tokens.
    expect(pricer.costMicro('stt', 'gpt-4o-transcribe', { audioDurationMs: 60_000 })).toBe(0);
    for (const row of findPriceRows(defaultPriceTable, 'stt', 'gpt-4o-transcribe')) {
      expect(row).toMatchObject({ source: expect.stringContaining('openai.com/api/pricing'), effective: '2026-12-01' });
    }
  });

  it('prices the OpenAI chat models, cached input at the cached rate and reasoning inside the output', () => {
    // gpt-4.1-mini: $0.40 in, $0.10 cached, $1.60 out per 1M. 10k prompt tokens of which 6k cached, 2k completion tokens.
    expect(pricer.costMicro('eval', 'gpt-4.1-mini', { tokensIn: 10_000, cachedTokensIn: 6_000, tokensOut: 2_000 })).toBe(1_600 + 600 + 3_200);
    // Without a cache hit every prompt token bills at the input rate.
    expect(pricer.costMicro('eval', 'gpt-4.1-mini', { tokensIn: 10_000, tokensOut: 2_000 })).toBe(4_000 + 3_200);
    expect(pricer.costMicro('eval', 'gpt-4o-mini', { tokensIn: 1_000_000, cachedTokensIn: 1_000_000, tokensOut: 1_000_000 })).toBe(75_000 + 600_000);
    expect(pricer.costMicro('eval', 'gpt-4.1-nano', { tokensIn: 1_000_000, tokensOut: 1_000_000 })).toBe(100_000 + 400_000);
    expect(pricer.costMicro('eval', 'gpt-4o', { tokensIn: 1_000, tokensOut: 1_000 })).toBe(2_500 + 10_000);
    expect(pricer.costMicro('eval', 'gpt-4.1', { tokensIn: 1_000, cachedTokensIn: 1_000, tokensOut: 1_000 })).toBe(500 + 8_000);
    // A cached count above the prompt (a malformed answer) never bills more than the prompt, nor negative input.
    expect(pricer.costMicro('eval', 'gpt-4.1-mini', { tokensIn: 1_000, cachedTokensIn: 5_000 })).toBe(100);
    expect(pricer.costMicro('eval', 'self-hosted/qwen2.5-7b-instruct', { tokensIn: 1_000_000, tokensOut: 1_000_000 })).toBe(0);
    for (const model of ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1-nano', 'gpt-4.1-mini', 'gpt-4.1']) {
      const rows = findPriceRows(defaultPriceTable, 'eval', model);
      expect(rows.map((r) => r.unit).sort()).toEqual(['cached_token_in', 'token_in', 'token_out']);
      for (const row of rows) expect(row).toMatchObject({ source: expect.stringContaining('openai.com/api/pricing'), effective: '2026-12-01' });
    }
  });

  it('prices Gemini cached input at a tenth of the input rate, audio still apart', () => {
    // flash: $0.30 text, $1.00 audio, $0.03 cached, $2.50 out. 2,000 in = 500 audio + 1,000 cached + 500 text.
    expect(pricer.costMicro('eval', 'gemini-2.5-flash', { tokensIn: 2_000, audioTokensIn: 500, cachedTokensIn: 1_000, tokensOut: 100 })).toBe(150 + 500 + 30 + 250);
    expect(pricer.costMicro('eval', 'gemini-2.5-pro', { tokensIn: 1_000_000, cachedTokensIn: 1_000_000 })).toBe(125_000);
  });

  it('checks every default row against the row schema (units, decimal prices, sources, dates)', () => {
    expect(priceTableSchema.parse(defaultPriceTable).rows).toHaveLength(defaultPriceTable.rows.length);
    expect(() => priceTableSchema.parse({ version: 'v', rows: [{ ...defaultPriceTable.rows[0], unit: 'cached_tokens' }] })).toThrow();
  });

  it('bills nothing for zero usage, whatever the minimum', () => {
    expect(pricer.costMicro('stt', 'google-stt/x', { audioDurationMs: 0 })).toBe(0);
    expect(pricer.costMicro('eval', 'gemini-2.5-flash', {})).toBe(0);
  });

  it('prefers exact rows over globs and finds nothing for unknown models', () => {
    expect(findPriceRows(defaultPriceTable, 'eval', 'gemini-2.5-flash').every((r) => r.model === 'gemini-2.5-flash')).toBe(true);
    expect(findPriceRows(defaultPriceTable, 'eval', 'gemini-9')).toEqual([]);
    expect(findPriceRows(defaultPriceTable, 'tts', 'ko-KR-Standard-B')[0]?.usd).toBe('4');
  });

  it('lets the host override and extend rows', () => {
    const t = mergePriceTables(defaultPriceTable, {
      version: 'host-2026-12',
      rows: [
        { capability: 'tts', model: '*-Wavenet-*', unit: 'character', usd: '16', per: 1_000_000, source: 'contract', effective: '2026-12-01' },
        { capability: 'stt', model: 'google-stt/*', unit: 'audio_second', usd: '0.024', per: 60, incrementUnits: 15, source: 'v1 15 s steps', effective: '2026-12-01' },
      ],
    });
    const p = new Pricer(t);
    expect(t.version).toBe('host-2026-12');
    expect(p.costMicro('tts', 'ko-KR-Wavenet-A', { characters: 1_000 })).toBe(16_000);
    expect(p.costMicro('stt', 'google-stt/default', { audioDurationMs: 16_000 })).toBe(30 * 400);
  });
});

describe('cost arithmetic', () => {
  const row = (usd: string, per: number, extra: Partial<PriceRow> = {}): PriceRow => ({ capability: 'eval', model: 'm', unit: 'token_in', usd, per, source: 's', effective: '2026-01-01', ...extra });

  it('is an integer, never negative, monotonic in usage, and exact against bigint reference', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 999_999 }),
        fc.constantFrom(1, 60, 1_000, 1_000_000),
        (units, whole, frac, per) => {
          const usd = `${whole}.${String(frac).padStart(6, '0')}`;
          const c = costMicroUsd([row(usd, per)], { tokensIn: units });
          expect(Number.isSafeInteger(c)).toBe(true);
          expect(c).toBeGreaterThanOrEqual(0);
          expect(costMicroUsd([row(usd, per)], { tokensIn: units + 1 })).toBeGreaterThanOrEqual(c);
          // reference: nano = ceil(units * priceNano / per); micro = round half up
          const priceNano = BigInt(whole) * 1_000_000_000n + BigInt(frac) * 1_000n;
          const total = BigInt(units) * priceNano;
          const nano = total / BigInt(per) + (total % BigInt(per) ? 1n : 0n);
          expect(c).toBe(Number((nano + 500n) / 1_000n));
        },
      ),
    );
  });

  it('costs in plain integers exactly what bigint gives, falling back to bigint past 2^53', () => {
    const units = ['token_in', 'audio_token_in', 'cached_token_in', 'token_out', 'audio_second', 'character', 'request'] as const;
    const priceRow = fc.record({
      unit: fc.constantFrom(...units),
      usd: fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 999_999_999 })).map(([w, f]) => `${w}.${String(f).padStart(9, '0')}`),
      per: fc.constantFrom(1, 7, 60, 1_000, 1_000_000),
      incrementUnits: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
      minimumUnits: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
    });
    const count = fc.oneof(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 2 ** 40 }), fc.constant(undefined));
    fc.assert(
      fc.property(fc.array(priceRow, { minLength: 1, maxLength: 4 }), fc.record({ tokensIn: count, audioTokensIn: count, cachedTokensIn: count, tokensOut: count, audioDurationMs: count, characters: count, requests: count }), (rs, usage) => {
        const plan = new PricePlan(rs.map((r) => row(r.usd, r.per, r)));
        expect(plan.costMicro(usage)).toBe(plan.costMicroBig(usage));
      }),
      { numRuns: 2_000 },
    );
    // Past 2^53 nano-dollars the integer path hands over to bigint and stays exact.
    const huge = new PricePlan([row('160', 1_000_000)]);
    expect(huge.costMicro({ tokensIn: 2 ** 50 })).toBe(huge.costMicroBig({ tokensIn: 2 ** 50 }));
    expect(huge.costMicro({ tokensIn: 2 ** 50 })).toBe(Number((2n ** 50n * 160n * 1_000_000_000n) / 1_000_000n / 1_000n));
  });

  it('applies increments and minimums to billed units', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 100 }), (units, inc, min) => {
        const b = billedUnits({ incrementUnits: inc, minimumUnits: min }, units);
        expect(b).toBeGreaterThanOrEqual(units);
        expect(b).toBeGreaterThanOrEqual(min);
        expect(b === min || b % inc === 0).toBe(true);
        expect(b - units).toBeLessThan(Math.max(inc, min - units + 1));
      }),
    );
  });

  it('converts micro-dollars to USD that prints back exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000_000 }), (m) => {
        expect(Math.round(microToUsd(m) * 1e6)).toBe(m);
        expect(microToUsd(m).toFixed(6)).toBe(`${Math.floor(m / 1e6)}.${String(m % 1e6).padStart(6, '0')}`);
      }),
    );
  });
});
