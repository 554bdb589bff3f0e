// What each cached capability keys, stores and gets back. STT is not cached: learner audio is
// never the same twice.
import { AiError } from '../errors/ai-error.js';
import type { AiPolicy } from '../policy/ai-policy.js';
import type { UsageUnits } from '../pricing/cost.js';
import type { Capability, EvalRequest, TtsProviderResult, TtsRequest, TtsAudioEncoding } from '../spec/types.js';
import { TTS_AUDIO_ENCODINGS } from '../spec/types.js';
import type { CacheEntry } from './cache-entry.js';
import { evalCacheKey, ttsCacheKey, type KeyedProvider } from './cache-key.js';

export type CachedCapability = Extract<Capability, 'tts' | 'eval'>;

/** A stored answer turned back into what the descriptor's `check` and `result` take. */
export interface Revived {
  raw: unknown;
  checked: unknown;
}

export interface CapabilityCache {
  /** The key: TTS on the chain's first step (a hit is what that provider would say), eval on the whole chain. */
  key(chain: readonly KeyedProvider[], req: unknown, policy: AiPolicy, salt: string | undefined): string;
  /** Answers are stored under the key of the step that made them (TTS), not the chain's. */
  perStep: boolean;
  /** The parts of a winning answer worth keeping; undefined when it must not be cached. */
  keep(raw: unknown, checked: unknown): Pick<CacheEntry, 'value' | 'payload'> | undefined;
  /** A stored entry as raw and checked answers; throws when it is not a valid one (read as a miss). */
  revive(entry: CacheEntry): Revived;
}

const ttsCache: CapabilityCache = {
  key: (chain, req, _policy, salt) => ttsCacheKey(chain[0]!, req as TtsRequest, salt),
  perStep: true,
  keep(raw) {
    const r = raw as TtsProviderResult;
    if (!(r.audio instanceof Uint8Array) || r.audio.byteLength === 0) return undefined;
    // A copy: the leader's caller owns r.audio and may edit it in place, while this entry is
    // handed to followers and served from the pending write.
    return { value: { encoding: r.encoding, characters: r.characters, audioDurationMs: r.audioDurationMs ?? null }, payload: r.audio.slice() };
  },
  revive(entry) {
    const v = entry.value as { encoding?: unknown; characters?: unknown; audioDurationMs?: unknown } | null;
    if (!v || !TTS_AUDIO_ENCODINGS.includes(v.encoding as TtsAudioEncoding) || typeof v.characters !== 'number' || !entry.payload?.byteLength) {
      throw new AiError('schema_violation', 'cached TTS entry is malformed', { retryable: false });
    }
    // Each caller owns its result's bytes: one hit handed to many waiters, or a store's buffer, must not change under another.
    const raw: TtsProviderResult = { audio: entry.payload.slice(), encoding: v.encoding as TtsAudioEncoding, characters: v.characters };
    if (typeof v.audioDurationMs === 'number') raw.audioDurationMs = v.audioDurationMs;
    return { raw, checked: undefined };
  },
};

const evalCache: CapabilityCache = {
  key: (chain, req, policy, salt) => evalCacheKey(chain, req as EvalRequest, policy.capabilities.eval.passMark, salt),
  perStep: false,
  // Only a checked grade reaches here (a schema-violating answer never wins); the checked form is what a hit returns.
  keep: (_raw, checked) => (checked === undefined ? undefined : { value: checked }),
  // The stored grade is checked again by the descriptor on the way out, like a provider's answer.
  revive: (entry) => ({ raw: { output: entry.value, tokensIn: 0, tokensOut: 0 }, checked: undefined }),
};

export const CAPABILITY_CACHES: Record<CachedCapability, CapabilityCache> = { tts: ttsCache, eval: evalCache };

/** The units of an answer worth storing for the saving a hit reports: everything priced, no zeros. */
export function storedUnits(units: UsageUnits): UsageUnits {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(units)) if (typeof v === 'number' && v > 0) out[k] = v;
  return out as UsageUnits;
}
