// The cache step of one call (call.ts step 2): a stored answer, or the answer an identical call
// in flight is fetching, returns at once; otherwise this call leads and its winning answer is
// stored when it ends. Followers wait for the leader within their own deadline and signal.
import { AiError } from '../errors/ai-error.js';
import type { CallState } from '../engine/call-state.js';
import type { Won } from '../engine/step.js';
import { recordCacheHit } from '../engine/usage-row.js';
import { onAbort } from '../policy/shared-abort.js';
import type { ResultMeta } from '../spec/types.js';
import { decodeEntry, encodeEntry, type CacheEntry } from './cache-entry.js';
import { CAPABILITY_CACHES, storedUnits, type CapabilityCache } from './capability-cache.js';
import type { Flight, Landing, ResponseCache } from './response-cache.js';

/** The cache step of a call whose capability has a cache; undefined when it has none. */
export function openCache(call: CallState): CallCache | undefined {
  const cache = call.ctx.caches[call.plan.capability as keyof typeof call.ctx.caches];
  return cache ? new CallCache(call, cache, CAPABILITY_CACHES[cache.capability]) : undefined;
}

export class CallCache {
  private key = '';
  private flight: Flight | undefined;

  constructor(
    private readonly call: CallState,
    private readonly cache: ResponseCache,
    private readonly kind: CapabilityCache,
  ) {}

  /**
   * The result of a hit (a stored answer, or the one an identical call in flight found), or
   * undefined: a miss, and this call now leads its identical followers. Rejects only when the
   * call's own deadline passes or its caller aborts while it waits for a leader.
   */
  async lookup(): Promise<unknown> {
    const { call, cache } = this;
    const { ctx, plan } = call;
    this.key = this.kind.key(plan.chain, call.req, ctx.policy, cache.keySalt);
    for (;;) {
      const writing = cache.written(this.key);
      const fresh = writing && this.hit(writing);
      if (fresh) return fresh;
      const ahead = cache.flight(this.key);
      if (ahead !== undefined) {
        const landing = await this.waitFor(ahead);
        // The leader's answer came from a fallback voice: not this key's answer, so not a hit;
        // this call makes its own (no flight: followers of one outage do not queue one by one).
        if (landing === 'own') return undefined;
        const hit = landing && this.hit(landing);
        if (hit) return hit;
        continue; // the leader found nothing to share: look again (one of the followers leads next)
      }
      const flight = cache.lead(this.key);
      const bytes = await cache.get(this.key, call.deadlineAt - ctx.clock.now());
      const entry = bytes && decodeEntry(bytes);
      const hit = entry && this.hit(entry);
      if (hit) {
        cache.land(this.key, flight, entry);
        return hit;
      }
      this.flight = flight;
      return undefined;
    }
  }

  /** Stores the winning answer (in the background; close() waits for it) and hands it to the followers. */
  fill(won: Won): void {
    const { call, cache } = this;
    const { ctx, plan } = call;
    const kept = this.kind.keep(won.raw, won.checked);
    const flight = this.flight;
    this.flight = undefined;
    if (!kept) {
      if (flight) cache.land(this.key, flight, undefined);
      return;
    }
    const modelId = (won.raw as { modelId?: string }).modelId ?? (won.link.modelPerRequest ? plan.descriptor.modelIdFor(won.link.provider, call.req) : won.link.provider.modelId);
    const entry: CacheEntry = { providerKey: won.link.key, provider: won.link.provider.name, modelId, units: storedUnits(plan.descriptor.units(won.raw)), ...kept };
    // TTS answers are kept under the key of the step that made them: a fallback voice never
    // answers for the primary's key, neither from the store nor to this flight's followers.
    // Eval keys name the whole chain already.
    const fellBack = this.kind.perStep && won.link !== plan.chain[0];
    const storeKey = fellBack ? this.kind.key([won.link], call.req, ctx.policy, cache.keySalt) : this.key;
    ctx.background.run(cache.set(storeKey, encodeEntry(entry), entry));
    if (flight) cache.land(this.key, flight, fellBack ? 'own' : entry);
  }

  /** The call is over: a leader that stored nothing releases its followers to look again. */
  close(): void {
    if (this.flight) this.cache.land(this.key, this.flight, undefined);
    this.flight = undefined;
  }

  /** A hit's result and its usage row; undefined when the entry does not pass the capability's check (a miss). */
  private hit(entry: CacheEntry): unknown {
    const { call } = this;
    const { ctx, plan } = call;
    let raw: unknown;
    let checked: unknown;
    try {
      ({ raw, checked } = this.kind.revive(entry));
      // A stored grade is checked like a provider's answer: an entry that no longer passes (a new
      // pass mark, a damaged store) is never served.
      if (plan.capability === 'eval') checked = plan.descriptor.check(raw, ctx.policy, entry.providerKey);
    } catch {
      return undefined;
    }
    const savedMicro = ctx.pricer.planFor(plan.capability, entry.modelId).costMicro(entry.units);
    const latencyMs = ctx.clock.now() - call.startedAt;
    recordCacheHit(call, entry.provider, entry.modelId, latencyMs, savedMicro);
    const meta: ResultMeta = { callId: call.callId, provider: entry.provider, providerKey: entry.providerKey, modelId: entry.modelId, attempts: [], latencyMs, costUsd: 0, cache: 'hit' };
    return plan.descriptor.result(raw, checked, meta);
  }

  /** The leader's entry, racing this call's deadline and its caller's signal. */
  private waitFor(flight: Flight): Promise<Landing> {
    const { call } = this;
    const { clock } = call.ctx;
    const what = call.operation;
    return new Promise<Landing>((resolve, reject) => {
      const left = call.deadlineAt - clock.now();
      if (left <= 0) return reject(new AiError('timeout', `${what}: call deadline of ${call.deadlineMs} ms passed while waiting for an identical call in flight`, { retryable: false }));
      const timer = clock.setTimeout(() => {
        detach();
        reject(new AiError('timeout', `${what}: call deadline of ${call.deadlineMs} ms passed while waiting for an identical call in flight`, { retryable: false }));
      }, left);
      const signal = call.opts.signal;
      const detach = signal
        ? onAbort(signal, () => {
            clock.clearTimeout(timer);
            reject(new AiError('cancelled', `${what}: the caller aborted the call while it waited for an identical call in flight`, { retryable: false }));
          })
        : () => {};
      flight.done.then((entry) => {
        clock.clearTimeout(timer);
        detach();
        resolve(entry);
      });
    });
  }
}
