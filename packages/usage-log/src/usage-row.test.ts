import { describe, expect, it } from 'vitest';
import type { UsageRecord } from '@korean-together/core';
import { MAX_ERROR_MESSAGE, normalizeUsage, rowToRecord } from './usage-row.js';

const base: UsageRecord = {
  id: '0b1e7a3c-5d2f-4e8a-9c1b-2a3d4e5f6a7b',
  callId: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f',
  attempt: 2,
  providerType: 'eval',
  providerName: 'gemini',
  modelId: 'gemini-2.5-flash',
  tokensIn: 100,
  tokensOut: 20,
  latencyMs: 123,
  success: true,
  estimatedCostUsd: 0.000125,
  priceVersion: '2026-01',
  createdAt: new Date('2026-03-01T10:00:00Z'),
};

describe('normalizeUsage', () => {
  it('keeps a valid record exactly, with the cost as an exact decimal string', () => {
    const r = normalizeUsage(base);
    expect(r).toEqual({
      ok: true,
      clamped: false,
      row: {
        id: base.id,
        callId: base.callId,
        attempt: 2,
        sessionId: null,
        eventId: null,
        providerType: 'eval',
        providerName: 'gemini',
        modelId: 'gemini-2.5-flash',
        tokensIn: 100,
        tokensOut: 20,
        audioDurationMs: null,
        characters: null,
        latencyMs: 123,
        success: true,
        errorCode: null,
        errorMessage: null,
        estimatedCostUsd: '0.000125',
        priceVersion: '2026-01',
        createdAt: Date.parse('2026-03-01T10:00:00Z'),
        tokensCachedIn: null,
        cacheHit: false,
        savedCostUsd: null,
      },
    });
    expect(r.ok && rowToRecord(r.row)).toEqual(base);
  });

  it('keeps the cache fields (hit, saving as an exact decimal, cached tokens) through a spill line and back', () => {
    const hit: UsageRecord = { ...base, estimatedCostUsd: 0, cacheHit: true, savedCostUsd: 0.000125, tokensCachedIn: 64 };
    const r = normalizeUsage(hit);
    expect(r).toMatchObject({ ok: true, clamped: false, row: { cacheHit: true, savedCostUsd: '0.000125', tokensCachedIn: 64, estimatedCostUsd: '0.000000' } });
    const line = JSON.parse(JSON.stringify(r.ok && r.row)) as unknown;
    expect(normalizeUsage(line)).toEqual(r);
    expect(r.ok && rowToRecord(r.row)).toEqual(hit);
    // Bad values are clamped, never stored as made-up numbers.
    expect(normalizeUsage({ ...base, cacheHit: 'yes', savedCostUsd: -1, tokensCachedIn: Number.NaN })).toMatchObject({ ok: true, clamped: true, row: { cacheHit: false, savedCostUsd: null, tokensCachedIn: null } });
  });

  it('replays a spill line written before the cache fields existed as no hit, unchanged and not clamped', () => {
    const old = { id: base.id, callId: base.callId, attempt: 2, sessionId: null, eventId: null, providerType: 'eval', providerName: 'gemini', modelId: 'gemini-2.5-flash', tokensIn: 100, tokensOut: 20, audioDurationMs: null, characters: null, latencyMs: 123, success: true, errorCode: null, errorMessage: null, estimatedCostUsd: '0.000125', priceVersion: '2026-01', createdAt: Date.parse('2026-03-01T10:00:00Z') };
    expect(normalizeUsage(old)).toEqual({ ok: true, clamped: false, row: { ...old, tokensCachedIn: null, cacheHit: false, savedCostUsd: null } });
  });

  it.each([
    ['missing id', { id: undefined }, 'id is not a UUID'],
    ['id not a uuid', { id: 'abc' }, 'id is not a UUID'],
    ['missing callId', { callId: undefined }, 'callId is not a UUID'],
    ['unknown providerType', { providerType: 'ocr' }, 'providerType is not stt, tts or eval'],
    ['empty providerName', { providerName: '' }, 'providerName is missing'],
    ['success not boolean', { success: 'yes' }, 'success is not a boolean'],
  ])('rejects a record with %s', (_name, patch, reason) => {
    expect(normalizeUsage({ ...base, ...patch })).toEqual({ ok: false, reason });
  });

  it('rejects non-objects', () => {
    expect(normalizeUsage(null).ok).toBe(false);
    expect(normalizeUsage('x').ok).toBe(false);
  });

  it.each([
    ['NaN latency', { latencyMs: Number.NaN }, { latencyMs: 0 }],
    ['negative latency', { latencyMs: -5 }, { latencyMs: 0 }],
    ['fractional latency', { latencyMs: 12.6 }, { latencyMs: 13 }],
    ['NaN tokens', { tokensIn: Number.NaN }, { tokensIn: null }],
    ['negative tokens', { tokensOut: -1 }, { tokensOut: 0 }],
    ['huge tokens', { tokensIn: 1e12 }, { tokensIn: 2_147_483_647 }],
    ['infinite audio', { audioDurationMs: Number.POSITIVE_INFINITY }, { audioDurationMs: null }],
    ['attempt 0', { attempt: 0 }, { attempt: 1 }],
    ['NaN cost', { estimatedCostUsd: Number.NaN }, { estimatedCostUsd: null }],
    ['negative cost', { estimatedCostUsd: -0.01 }, { estimatedCostUsd: null }],
    ['cost over DECIMAL(12,6)', { estimatedCostUsd: 1_000_000 }, { estimatedCostUsd: null }],
    ['session id not a uuid', { sessionId: 'sess_42' }, { sessionId: null }],
    ['invalid createdAt', { createdAt: new Date('nope') }, {}],
    ['long provider name', { providerName: 'p'.repeat(80) }, { providerName: 'p'.repeat(50) }],
    ['long model id', { modelId: 'm'.repeat(300) }, { modelId: 'm'.repeat(100) }],
  ])('clamps %s and says so', (_name, patch, expected) => {
    const r = normalizeUsage({ ...base, ...patch });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.clamped).toBe(true);
    expect(r.row).toMatchObject(expected);
  });

  it('replaces an invalid createdAt with the current time', () => {
    const r = normalizeUsage({ ...base, createdAt: new Date('nope') }, 1_700_000_000_000);
    expect(r.ok && r.row.createdAt).toBe(1_700_000_000_000);
  });

  it('cuts huge error text and redacts secrets in it', () => {
    const msg = `upstream said: key=AIzaSyA1234567890abcdefghijklmnop Bearer abc.def.ghi ${'x'.repeat(100_000)}`;
    const r = normalizeUsage({ ...base, success: false, errorCode: 'unavailable', errorMessage: msg });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.clamped).toBe(true);
    expect(r.row.errorMessage!.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE + 1);
    expect(r.row.errorMessage).not.toContain('AIzaSy');
    expect(r.row.errorMessage).not.toContain('abc.def.ghi');
  });

  it('never copies fields a UsageRecord does not have', () => {
    const r = normalizeUsage({ ...base, learnerAnswer: '저는 학생이에요', apiKey: 'sk-secret' });
    expect(JSON.stringify(r)).not.toContain('학생');
    expect(JSON.stringify(r)).not.toContain('sk-secret');
  });

  it('accepts the decimal-string cost and numeric createdAt of spill lines, exactly', () => {
    const r = normalizeUsage({ ...base, estimatedCostUsd: '123456.5', createdAt: 1_772_359_200_000 });
    expect(r.ok && r.row.estimatedCostUsd).toBe('123456.500000');
    expect(r.ok && r.row.createdAt).toBe(1_772_359_200_000);
    // 0.1 + 0.2 is not 0.3 in binary; the stored cost still is.
    const f = normalizeUsage({ ...base, estimatedCostUsd: 0.1 + 0.2 });
    expect(f.ok && f.row.estimatedCostUsd).toBe('0.300000');
  });
});

describe('error message fast path', () => {
  it.each([
    'attempt timed out after 2000 ms',
    'gemini: 503 UNAVAILABLE',
    'see https://x.test/v1?key=AIzaSyA1234567890abcdefghijk',
    'Bearer abcdefghijk',
    'sk-abcdefghijklmnop leaked',
    'two  spaces',
    'tab\there',
    ' leading',
    'trailing ',
    'line\nbreak',
  ])('stores exactly what safeProviderText would: %j', async (msg) => {
    const { safeProviderText } = await import('@korean-together/core/provider-kit');
    const r = normalizeUsage({ ...base, success: false, errorMessage: msg });
    expect(r.ok && r.row.errorMessage).toBe(safeProviderText(msg, MAX_ERROR_MESSAGE));
  });
});

describe('NUL characters', () => {
  it('are removed from every text field (Postgres text cannot hold them), and the record counts as clamped', () => {
    const r = normalizeUsage({
      id: '2e3f4a5b-6c7d-4e8f-9a0b-1c2d3e4f5a6b',
      callId: '3f4a5b6c-7d8e-4f9a-8b1c-2d3e4f5a6b7c',
      providerType: 'eval',
      providerName: 'gem\u0000ini',
      modelId: 'flash\u0000',
      success: false,
      errorCode: '\u0000timeout',
      errorMessage: 'body \u0000\u0000 here',
      priceVersion: '2026\u0000-01',
      latencyMs: 1,
      createdAt: new Date(0),
    });
    expect(r).toMatchObject({ ok: true, clamped: true, row: { providerName: 'gemini', modelId: 'flash', errorCode: 'timeout', errorMessage: 'body here', priceVersion: '2026-01' } });
    expect(normalizeUsage({ id: '2e3f4a5b-6c7d-4e8f-9a0b-1c2d3e4f5a6b', callId: '3f4a5b6c-7d8e-4f9a-8b1c-2d3e4f5a6b7c', providerType: 'eval', providerName: '\u0000', success: true })).toEqual({ ok: false, reason: 'providerName is missing' });
  });
});
