import { describe, expect, it } from 'vitest';
import { isAiError } from '@korean-together/core';
import { FaultScript, HitCounter, seededRandom } from './faults.js';
import type { FaultRule } from './types.js';

describe('FaultScript', () => {
  it('applies a rule to the next N matching requests, then retires it', () => {
    const faults = new FaultScript();
    faults.add({ target: 'gemini', fault: { kind: 'status', status: 503 }, times: 2 });
    expect(faults.pick('google-stt', [])).toBeUndefined();
    expect(faults.pick('gemini', ['gemini-2.5-flash'])?.kind).toBe('status');
    expect(faults.pick('gemini', ['gemini-2.5-pro'])?.kind).toBe('status');
    expect(faults.pick('gemini', ['gemini-2.5-flash'])).toBeUndefined();
  });

  it('matches a model or voice name when the rule names one', () => {
    const faults = new FaultScript();
    faults.add({ target: 'google-tts', model: 'ko-KR-Wavenet-A', fault: { kind: 'truncated_audio' } });
    expect(faults.pick('google-tts', ['ko-KR-Standard-A'])).toBeUndefined();
    expect(faults.pick('google-tts', ['ko-KR-Wavenet-A'])).toEqual({ kind: 'truncated_audio' });
    expect(faults.pick('google-tts', ['ko-KR-Wavenet-A'])).toEqual({ kind: 'truncated_audio' });
  });

  it('gives streaming-only faults to streaming requests, and lets unary ones pass them by without using them up', () => {
    const faults = new FaultScript();
    faults.add({ target: 'google-stt', fault: { kind: 'stall' }, times: 1 });
    faults.add({ target: 'google-stt', fault: { kind: 'delay', ms: 5 }, times: 1 });
    expect(faults.pick('google-stt', ['default'])).toEqual({ kind: 'delay', ms: 5 });
    expect(faults.pick('google-stt', ['default'])).toBeUndefined();
    expect(faults.pick('google-stt', ['default'], true)).toEqual({ kind: 'stall' });
    expect(faults.pick('google-stt', ['default'], true)).toBeUndefined();
  });

  it('checks rules in the order added; the first that applies wins; removers and clear work', () => {
    const faults = new FaultScript();
    const removeHang = faults.add({ target: 'whisper', fault: { kind: 'hang' }, times: 1 });
    faults.add({ target: 'whisper', fault: { kind: 'delay', ms: 5 } });
    removeHang();
    expect(faults.pick('whisper', [])).toEqual({ kind: 'delay', ms: 5 });
    faults.clear();
    expect(faults.pick('whisper', [])).toBeUndefined();
  });

  it('draws probabilities from the seeded source: same seed, same faults', () => {
    const run = (seed: number) => {
      const faults = new FaultScript(seed);
      faults.add({ target: 'gemini', fault: { kind: 'status', status: 429 }, probability: 0.3 });
      return Array.from({ length: 200 }, () => (faults.pick('gemini', []) ? 1 : 0)).join('');
    };
    expect(run(42)).toBe(run(42));
    expect(run(42)).not.toBe(run(43));
    const hits = [...run(42)].filter((c) => c === '1').length;
    expect(hits).toBeGreaterThan(35);
    expect(hits).toBeLessThan(85);
  });

  it('counts `times` only when a probabilistic rule applies', () => {
    const faults = new FaultScript(7);
    faults.add({ target: 'gemini', fault: { kind: 'safety' }, probability: 0.5, times: 3 });
    let applied = 0;
    for (let i = 0; i < 100; i++) if (faults.pick('gemini', [])) applied++;
    expect(applied).toBe(3);
  });

  it.each<[string, FaultRule]>([
    ['target', { target: 'nope' as never, fault: { kind: 'hang' } }],
    ['times', { target: 'gemini', fault: { kind: 'hang' }, times: 0 }],
    ['probability', { target: 'gemini', fault: { kind: 'hang' }, probability: 1.5 }],
    ['kind', { target: 'gemini', fault: { kind: 'explode' } as never }],
    ['does not apply', { target: 'google-stt', fault: { kind: 'safety' } }],
    ['does not apply', { target: 'gemini', fault: { kind: 'truncated_audio' } }],
    ['status', { target: 'gemini', fault: { kind: 'status', status: 200 } }],
    ['retryAfterSeconds', { target: 'gemini', fault: { kind: 'status', status: 429, retryAfterSeconds: -1 } }],
    ['delay', { target: 'gemini', fault: { kind: 'delay', ms: Number.NaN } }],
    ['retryAfterMs', { target: 'whisper', fault: { kind: 'status', status: 429, retryAfterMs: -5 } }],
    ['retryAfterMs (the retry-after-ms header) applies only to openai, whisper and http-tts', { target: 'gemini', fault: { kind: 'status', status: 429, retryAfterMs: 5 } }],
    ['does not apply', { target: 'gemini', fault: { kind: 'insufficient_quota' } }],
    ['does not apply', { target: 'whisper', fault: { kind: 'fenced_json' } }],
    ['does not apply', { target: 'gemini', fault: { kind: 'refusal' } }],
    ['does not apply', { target: 'gemini-vertex', fault: { kind: 'content_filter' } }],
    ['does not apply', { target: 'openai', fault: { kind: 'safety' } }],
    ['does not apply', { target: 'whisper', fault: { kind: 'stall' } }],
    ['afterResults', { target: 'google-stt', fault: { kind: 'fail_mid_stream', afterResults: -1 } }],
    ['status must be a gRPC code', { target: 'google-tts', fault: { kind: 'fail_before_first_result', status: 503 } }],
    ['slow_first_chunk ms', { target: 'google-stt', fault: { kind: 'slow_first_chunk', ms: -3 } }],
  ])('refuses a rule with a bad %s', (what, rule) => {
    const faults = new FaultScript();
    let caught: unknown;
    try {
      faults.add(rule);
    } catch (e) {
      caught = e;
    }
    expect(isAiError(caught) && caught.code === 'invalid_config').toBe(true);
    expect((caught as Error).message).toContain(what);
  });
});

describe('HitCounter', () => {
  it('counts per target and per model or voice name, and resets', () => {
    const hits = new HitCounter();
    hits.record('http-tts', ['tts-1', 'alloy']);
    hits.record('http-tts', ['tts-1', 'nova']);
    hits.recordAborted('http-tts', ['tts-1', 'nova']);
    expect(hits.count('http-tts')).toBe(2);
    expect(hits.count('http-tts', 'tts-1')).toBe(2);
    expect(hits.count('http-tts', 'nova')).toBe(1);
    expect(hits.aborted('http-tts')).toBe(1);
    expect(hits.aborted('http-tts', 'alloy')).toBe(0);
    expect(hits.count('gemini')).toBe(0);
    hits.reset();
    expect(hits.count('http-tts')).toBe(0);
    expect(hits.aborted('http-tts')).toBe(0);
  });

  it('does not double-count a request whose model and voice share a name', () => {
    const hits = new HitCounter();
    hits.record('whisper', ['x', 'x']);
    expect(hits.count('whisper', 'x')).toBe(1);
  });
});

describe('seededRandom', () => {
  it('stays within [0, 1)', () => {
    const r = seededRandom(1);
    for (let i = 0; i < 1000; i++) {
      const x = r();
      expect(x >= 0 && x < 1).toBe(true);
    }
  });
});
