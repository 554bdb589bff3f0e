// The caches a client holds, made once at createAiClient from the policy's `cache` section and
// the stores the host passes.
import { AiError } from '../errors/ai-error.js';
import type { AiClientEvents } from '../events.js';
import type { AiPolicy } from '../policy/ai-policy.js';
import type { Clock } from '../policy/clock.js';
import type { CacheStore } from './cache-store.js';
import type { CachedCapability } from './capability-cache.js';
import { MemoryCacheStore } from './memory-cache-store.js';
import { ResponseCache } from './response-cache.js';

/** One store for every cached capability (keys start 'tts:' or 'eval:'), or one per capability. */
export type CacheStoreOption = CacheStore | Partial<Record<CachedCapability, CacheStore>>;

function isStore(v: unknown): v is CacheStore {
  return typeof v === 'object' && v !== null && typeof (v as CacheStore).get === 'function' && typeof (v as CacheStore).set === 'function';
}

/** The ResponseCache of every capability the policy caches; a capability given no store gets a MemoryCacheStore of its `maxBytes`. */
export function clientCaches(policy: AiPolicy, option: CacheStoreOption | undefined, clock: Clock, events: AiClientEvents, keySalt?: string): Partial<Record<CachedCapability, ResponseCache>> {
  const out: Partial<Record<CachedCapability, ResponseCache>> = {};
  if (keySalt !== undefined && (typeof keySalt !== 'string' || keySalt === '')) {
    throw new AiError('invalid_config', 'createAiClient: cacheKeySalt: must be a non-empty string', { retryable: false });
  }
  if (option !== undefined && (typeof option !== 'object' || option === null)) {
    throw new AiError('invalid_config', 'createAiClient: cacheStore: must be a CacheStore or { tts?, eval? } of CacheStores', { retryable: false });
  }
  for (const capability of ['tts', 'eval'] as const) {
    const settings = policy.cache[capability];
    let store: CacheStore | undefined;
    if (option !== undefined) {
      const given = isStore(option) ? option : (option as Partial<Record<CachedCapability, unknown>>)[capability];
      if (given !== undefined && !isStore(given)) {
        throw new AiError('invalid_config', `createAiClient: cacheStore.${capability}: must be a CacheStore (get, set, delete)`, { retryable: false });
      }
      store = given;
    }
    if (!settings) continue;
    store ??= new MemoryCacheStore({ maxBytes: settings.maxBytes, now: () => clock.now() });
    out[capability] = new ResponseCache({ capability, store, ttlMs: settings.ttlMs, timeoutMs: policy.cache.storeTimeoutMs, clock, events, keySalt });
  }
  return out;
}
