import { describe, expect, it } from 'vitest';
import { fakeEval, fakeTts } from '../testing/fakes.js';
import { evalCacheKey, gradingPromptVersion, ttsCacheKey } from './cache-key.js';
import { normalizeText } from './normalize-text.js';

const voice = { key: 'google-tts', provider: fakeTts([{ ok: true }]) };
const tts = { text: '잘했어요! 100점이에요.', voice: 'ko-KR-Wavenet-A', audioEncoding: 'MP3' as const, speakingRate: 1 };
const chain = [
  { key: 'flash', provider: fakeEval([{ ok: true }]) },
  { key: 'gpt', provider: fakeEval([{ ok: true }], { name: 'openai', modelId: 'gpt-4.1-mini' }) },
];
const ev = { prompt: '식당에서 물을 달라고 하세요.', learnerAnswer: '물 좀 주세요', expectedAnswer: '물 좀 주세요', targetFormality: 'haeyo' as const, level: 'A1' };

describe('cache keys', () => {
  it('normalise text: NFC (jamo sequences and precomposed syllables agree) and whitespace', () => {
    const decomposed = '물 좀 주세요'.normalize('NFD');
    expect(decomposed).not.toBe('물 좀 주세요');
    expect(normalizeText(`  ${decomposed}\n\t`)).toBe('물 좀 주세요');
    expect(ttsCacheKey(voice, { ...tts, text: tts.text.normalize('NFD') })).toBe(ttsCacheKey(voice, tts));
    expect(evalCacheKey(chain, { ...ev, learnerAnswer: ' 물  좀\u00a0주세요 ' }, 70)).toBe(evalCacheKey(chain, ev, 70));
  });

  it('TTS: defaults filled in, and every field that changes the audio changes the key; nothing else does', () => {
    const k = ttsCacheKey(voice, tts);
    expect(k).toMatch(/^tts:[0-9a-f]{64}$/);
    expect(ttsCacheKey(voice, { text: tts.text, voice: tts.voice })).toBe(k);
    const variants = [
      ttsCacheKey({ ...voice, key: 'other-key' }, tts),
      ttsCacheKey({ ...voice, provider: fakeTts([{ ok: true }], { name: 'other' }) }, tts),
      ttsCacheKey({ ...voice, provider: fakeTts([{ ok: true }], { modelId: 'ko-KR-Neural2-A' }) }, tts),
      ttsCacheKey(voice, { ...tts, text: '잘했어요!' }),
      ttsCacheKey(voice, { ...tts, voice: 'ko-KR-Wavenet-B' }),
      ttsCacheKey(voice, { ...tts, audioEncoding: 'OGG_OPUS' }),
      ttsCacheKey(voice, { ...tts, speakingRate: 1.25 }),
      ttsCacheKey(voice, { ...tts, sampleRateHertz: 16_000 } as typeof tts),
      ttsCacheKey({ ...voice, provider: Object.assign(fakeTts([{ ok: true }]), { cacheIdentity: 'voice nova' }) }, tts),
    ];
    expect(new Set([k, ...variants]).size).toBe(variants.length + 1);
  });

  it('eval: every listed field, the pass mark, the prompt version and the chain (order included) change the key', () => {
    const k = evalCacheKey(chain, ev, 70);
    expect(k).toMatch(/^eval:[0-9a-f]{64}$/);
    const variants = [
      evalCacheKey(chain, { ...ev, prompt: '물을 달라고 하세요.' }, 70),
      evalCacheKey(chain, { ...ev, learnerAnswer: '물 주세요' }, 70),
      evalCacheKey(chain, { ...ev, expectedAnswer: undefined }, 70),
      evalCacheKey(chain, { ...ev, targetFormality: 'hapsyo' }, 70),
      evalCacheKey(chain, { ...ev, level: 'A2' }, 70),
      evalCacheKey(chain, ev, 80),
      evalCacheKey([chain[1]!, chain[0]!], ev, 70),
      evalCacheKey([chain[0]!], ev, 70),
      evalCacheKey([{ ...chain[0]!, provider: Object.assign(fakeEval([{ ok: true }]), { cacheIdentity: 'v2' }) }, chain[1]!], ev, 70),
      evalCacheKey(chain, { ...ev, audio: { data: new Uint8Array([1, 2]), mimeType: 'audio/wav' } }, 70),
    ];
    expect(new Set([k, ...variants]).size).toBe(variants.length + 1);
    expect(gradingPromptVersion(80)).not.toBe(gradingPromptVersion(70));
  });

  it('a salt keys every field by an HMAC: a different salt, or none, gives another key', () => {
    const keys = [undefined, 's3cret', 'other'].map((salt) => [ttsCacheKey(voice, tts, salt), evalCacheKey(chain, ev, 70, salt)]);
    expect(new Set(keys.flat()).size).toBe(6);
    expect(keys[1]![1]).toMatch(/^eval:[0-9a-f]{64}$/);
    expect(evalCacheKey(chain, ev, 70, 's3cret')).toBe(keys[1]![1]);
  });

  it('never carry the text itself', () => {
    expect(ttsCacheKey(voice, tts)).not.toContain('잘했어요');
    expect(evalCacheKey(chain, ev, 70)).not.toContain('물');
  });
});
