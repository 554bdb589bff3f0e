import { BudgetGuard } from './budget/budget-guard.js';
import type { BudgetStore } from './budget/budget-store.js';
import { MemoryBudgetStore } from './budget/memory-budget-store.js';
import { runCall } from './call.js';
import { clientCaches, type CacheStoreOption } from './cache/client-caches.js';
import { prefetchTts, type TtsPrefetchOptions, type TtsPrefetchReport } from './cache/tts-prefetch.js';
import { CAPABILITY_DESCRIPTORS } from './capabilities/index.js';
import { closeWithin, DEFAULT_CLOSE_TIMEOUT_MS } from './client-close.js';
import type { Telemetry } from './engine/call-observer.js';
import type { CallState } from './engine/call-state.js';
import type { CallContext, CapabilityPlan, ChainLink } from './engine/runtime.js';
import { BackgroundWork, Tracker } from './engine/tracker.js';
import { AiError } from './errors/ai-error.js';
import { emit, type AiClientEvents, type BackgroundErrorEvent } from './events.js';
import { definePolicy, type AiPolicy } from './policy/ai-policy.js';
import { CircuitBreaker, type BreakerState } from './policy/circuit-breaker.js';
import { systemClock, type Clock, type RandomSource } from './policy/clock.js';
import { LocalLimiter } from './policy/local-limiter.js';
import { RateLimiter, type Limiter, type LimiterBackendOptions, type SharedRateLimits } from './policy/rate-limit.js';
import { Pricer } from './pricing/cost.js';
import { defaultPriceTable, mergePriceTables, priceTableSchema, type PriceTable } from './pricing/price-table.js';
import { callOptionsError } from './requests/call-options.js';
import { MAX_TIMER_MS } from './requests/limits.js';
import {
  CAPABILITIES,
  type CallOptions,
  type Capability,
  type EvalRequest,
  type EvalResult,
  type Provider,
  type SttRequest,
  type SttResult,
  type TtsRequest,
  type TtsResult,
} from './spec/types.js';
import type { SttStream, SttStreamRequest, TtsStream, TtsStreamRequest } from './spec/streaming.js';
import { transcribeStream } from './streaming/stt-stream.js';
import { synthesizeStream } from './streaming/tts-stream.js';
import { UsageFanOut } from './usage/fan-out.js';
import type { UsageSink } from './usage/usage-record.js';

export interface CreateAiClientOptions {
  /** The AI policy: a `definePolicy` result, or raw input that is validated here. Default: `defaultPolicy`. */
  policy?: AiPolicy | unknown;
  /** Providers by key; the policy's chains name these keys. */
  providers: Record<string, Provider>;
  /**
   * Prices: a full table, or `{ version, rows }` layered over the default table
   * (`mode: 'merge'`, the default) or replacing it (`mode: 'replace'`).
   */
  pricing?: PriceTable & { mode?: 'merge' | 'replace' };
  /** Where usage records go; each gets every record. Default: none. */
  sinks?: UsageSink[];
  /** Close the sinks in `client.close()` (a sink's close() drains it); false: only flush them. Default true. */
  closeSinks?: boolean;
  /** Call each provider's `close()` (gRPC channels) in `client.close()`. Default true. */
  closeProviders?: boolean;
  /**
   * Longest `client.close()` takes, ms, whatever its sinks, stores and providers do. The sinks
   * get the last min(6000, half) of it (`closeShares`): their close() starts by then at the
   * latest. In-flight calls run on within the rest (each ends by its own deadline anyway), then
   * are cancelled. What is still pending at the end is reported through
   * `events.onBackgroundError` (`where: 'close'`). Default 26000: the default policy's longest
   * deadline (eval, 20 s) plus the sinks' 6 s, in which the usage-log sinks' default close (5 s) fits.
   */
  closeTimeoutMs?: number;
  /** Budget totals; default an in-memory store (one process). */
  budgetStore?: BudgetStore;
  /**
   * Where the response caches the policy turns on (`cache.tts`, `cache.eval`) keep answers: one
   * CacheStore for both, or `{ tts?, eval? }`. `createRedisCacheStore()` from
   * `@korean-together/core/redis`, `createPostgresCacheStore()` from `@korean-together/usage-log`.
   * The host owns the stores: `close()` leaves them open. Default: a MemoryCacheStore per cached
   * capability, bounded by its policy `maxBytes`.
   */
  cacheStore?: CacheStoreOption;
  /**
   * A secret mixed into every cache key (an HMAC-SHA256 instead of a plain sha256); never stored
   * or reported. Without it a reader of a shared store can confirm a guessed learner answer by
   * hashing it (eval keys are hashes of normalised fields). Changing it makes every cached
   * answer unreachable. Default none.
   */
  cacheKeySalt?: string;
  /** Time source for every policy; default the system clock. */
  clock?: Clock;
  /** Randomness for backoff jitter; default Math.random. */
  random?: RandomSource;
  /** Engine events (attempts, retries, fallbacks, hedges, breaker changes, budget refusals). */
  events?: AiClientEvents;
  /**
   * Extra bottleneck options per rate-limited provider, e.g. a Redis datastore so the limit
   * holds across processes. Called once per (capability, provider key) that has a rateLimit.
   */
  limiterBackend?: (capability: Capability, providerKey: string) => LimiterBackendOptions | undefined;
  /**
   * Builds the limiters of providers whose policy `rateLimit.shared` is set, so those limits
   * hold across processes: `createRedisRateLimits()` from `@korean-together/core/redis`.
   * Required when the policy shares a limit. The client closes the limiters; close the
   * SharedRateLimits itself (its Redis connections) after the client. Default: none.
   */
  sharedRateLimits?: SharedRateLimits;
  /**
   * Traces and metrics of every call: `openTelemetry()` from `@korean-together/core/otel`
   * (spans, GenAI metrics, gauges of breakers and sinks). Default: none (no call is observed).
   */
  telemetry?: Telemetry;
}

export interface AiClient {
  readonly policy: AiPolicy;
  readonly stt: {
    transcribe(req: SttRequest, opts?: CallOptions): Promise<SttResult>;
    /**
     * Recognises audio while it is spoken (`audio`: the microphone's chunks). Events come as the
     * provider hears them; `result` is the joined final transcript with `.meta`. Same policy as
     * `transcribe`, plus `firstResultTimeoutMs`; the deadline runs from the end of the audio.
     */
    transcribeStream(audio: AsyncIterable<Uint8Array>, req: SttStreamRequest, opts?: CallOptions): SttStream;
  };
  readonly tts: {
    synthesize(req: TtsRequest, opts?: CallOptions): Promise<TtsResult>;
    /**
     * Synthesises text while it arrives (`text`: a string, or an LLM reply in pieces). Audio
     * chunks in one encoding come as they are made; providers without streaming synthesise
     * sentence by sentence. Same policy as `synthesize`, plus `firstAudioTimeoutMs`; the chain
     * moves on only until the first chunk was yielded; the deadline runs from the end of the text.
     */
    synthesizeStream(text: string | AsyncIterable<string>, req: TtsStreamRequest, opts?: CallOptions): TtsStream;
    /**
     * Synthesises a lesson's fixed lines ahead into the TTS cache (each line one ordinary call:
     * same policy, budget and usage rows), with `onProgress` after each. Resolves with what
     * happened to every line; rejects `invalid_config` when the policy has no `cache.tts`.
     */
    prefetch(texts: readonly string[], req: Omit<TtsRequest, 'text'>, opts?: TtsPrefetchOptions): Promise<TtsPrefetchReport>;
  };
  readonly eval: { evaluate(req: EvalRequest, opts?: CallOptions): Promise<EvalResult> };
  /** Breaker state of every (capability, provider) in a chain, e.g. { 'stt:google': 'closed' }. */
  breakerStates(): Record<string, BreakerState>;
  /** Calls in flight right now. */
  inFlight(): number;
  /**
   * Refuses new calls, waits for in-flight ones (up to their deadlines, leaving the sinks their
   * share), closes (or, with `closeSinks: false`, flushes) the sinks, closes limiters and
   * providers. Resolves within `closeTimeoutMs`, never rejects. Idempotent.
   */
  close(): Promise<void>;
}

function resolvePricing(pricing: CreateAiClientOptions['pricing']): PriceTable {
  if (!pricing) return defaultPriceTable;
  const parsed = priceTableSchema.safeParse({ version: pricing.version, rows: pricing.rows });
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `pricing.${i.path.join('.')}: ${i.message}`).join('; ');
    throw new AiError('invalid_config', `invalid price table: ${detail}`, { retryable: false });
  }
  return pricing.mode === 'replace' ? parsed.data : mergePriceTables(defaultPriceTable, parsed.data);
}

/**
 * Creates the client host apps call. Validates everything up front (policy, chains against
 * providers, a price for every provider's model) and throws `invalid_config` naming the bad
 * field, so a misconfiguration fails at start-up, not on a learner's first call.
 */
export function createAiClient(options: CreateAiClientOptions): AiClient {
  if (!options || typeof options !== 'object' || !options.providers || typeof options.providers !== 'object') {
    throw new AiError('invalid_config', 'createAiClient: providers: must be an object of providers by key', { retryable: false });
  }
  const policy = definePolicy(options.policy ?? {});
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const events = options.events ?? {};
  const closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
  if (!Number.isInteger(closeTimeoutMs) || closeTimeoutMs <= 0 || closeTimeoutMs > MAX_TIMER_MS) {
    throw new AiError('invalid_config', `createAiClient: closeTimeoutMs: must be an integer number of milliseconds from 1 to ${MAX_TIMER_MS}`, { retryable: false });
  }
  const reportBackground = (e: BackgroundErrorEvent): void => emit(events, 'onBackgroundError', e);
  const pricer = new Pricer(resolvePricing(options.pricing));

  const providers = new Map<string, Provider>();
  for (const [key, p] of Object.entries(options.providers)) {
    if (!p || typeof p !== 'object' || !CAPABILITIES.includes(p.capability) || typeof p.name !== 'string' || typeof p.modelId !== 'string') {
      throw new AiError('invalid_config', `providers.${key}: not a provider (needs capability 'stt'|'tts'|'eval', name and modelId)`, { retryable: false });
    }
    providers.set(key, p);
  }

  const breakers = new Map<string, CircuitBreaker>();
  const limiters = new Map<string, Limiter>();
  const plans = {} as Record<Capability, CapabilityPlan>;
  for (const capability of CAPABILITIES) {
    const cap = policy.capabilities[capability];
    const keys = cap.chain.length ? [...cap.chain] : [...providers].filter(([, p]) => p.capability === capability).map(([k]) => k);
    cap.chain.forEach((key, i) => {
      const p = providers.get(key);
      if (!p) throw new AiError('invalid_config', `capabilities.${capability}.chain.${i}: no provider named '${key}' (known: ${[...providers.keys()].join(', ') || 'none'})`, { retryable: false });
      if (p.capability !== capability) {
        throw new AiError('invalid_config', `capabilities.${capability}.chain.${i}: provider '${key}' is a ${p.capability} provider, not ${capability}`, { retryable: false });
      }
    });
    const chain: ChainLink[] = keys.map((key, index) => {
      const provider = providers.get(key)!;
      pricer.assertPriced(capability, provider.modelId, key);
      const id = `${capability}:${key}`;
      let breaker = breakers.get(id);
      if (!breaker) {
        breaker = new CircuitBreaker(id, cap.circuitBreaker, clock, events);
        breakers.set(id, breaker);
        const limiter = limiterFor(capability, key, id);
        if (limiter) limiters.set(id, limiter);
      }
      return {
        index,
        key,
        provider,
        breaker,
        limiter: limiters.get(id),
        price: pricer.planFor(capability, provider.modelId),
        modelPerRequest: provider.capability === 'tts' && typeof provider.modelIdFor === 'function',
      };
    });
    const descriptor = CAPABILITY_DESCRIPTORS[capability];
    plans[capability] = {
      capability,
      descriptor,
      policy: cap,
      chain,
      env: { policy, pricer, chain: chain.map(({ key, provider }) => ({ key, provider })) },
      attemptFields: descriptor.attemptFields?.(policy),
      maxSlotWaitMs: cap.rateLimit?.maxWaitMs,
    };
  }

  function limiterFor(capability: Capability, key: string, id: string): Limiter | undefined {
    const cap = policy.capabilities[capability];
    if (cap.rateLimit?.shared) {
      if (!options.sharedRateLimits) {
        throw new AiError('invalid_config', `capabilities.${capability}.rateLimit.shared: needs createAiClient({ sharedRateLimits: createRedisRateLimits() }) from @korean-together/core/redis`, { retryable: false });
      }
      return options.sharedRateLimits.limiterFor({ capability, providerKey: key, policy: cap.rateLimit, attemptTimeoutMs: cap.attemptTimeoutMs, clock });
    }
    if (cap.rateLimit && (cap.rateLimit.maxConcurrent !== undefined || cap.rateLimit.perSecond !== undefined)) {
      const backend = options.limiterBackend?.(capability, key);
      return backend ? new RateLimiter(id, cap.rateLimit, clock, backend) : new LocalLimiter(cap.rateLimit, clock);
    }
    return undefined;
  }

  const sinks = options.sinks ?? [];
  const ctx: CallContext = {
    policy,
    plans,
    pricer,
    budget: new BudgetGuard(policy.budget, options.budgetStore ?? new MemoryBudgetStore({ now: () => clock.now() })),
    usage: new UsageFanOut(sinks, (error) => reportBackground({ where: 'sink', error })),
    clock,
    random,
    events,
    calls: new Tracker<CallState>(),
    background: new BackgroundWork(),
    observer: undefined,
    caches: clientCaches(policy, options.cacheStore, clock, events, options.cacheKeySalt),
  };
  if (options.telemetry) {
    ctx.observer = options.telemetry.observe({ breakerStates: () => breakerStates(), sinks, now: () => clock.now() });
  }
  function breakerStates(): Record<string, BreakerState> {
    const out: Record<string, BreakerState> = {};
    for (const [id, b] of breakers) out[id] = b.state;
    return out;
  }
  let closing: Promise<void> | undefined;

  /** The one facade every capability's method is: checks that hold for any call, then the call path. */
  function call(capability: Capability, req: unknown, opts: CallOptions | undefined): Promise<unknown> {
    const refused = refusal(capability, opts);
    if (refused) return Promise.reject(refused);
    return runCall(ctx, plans[capability], req, opts ?? {});
  }

  /** Why a call cannot start at all (client closed, no chain, bad options), checked before the call path. */
  function refusal(capability: Capability, opts: CallOptions | undefined): AiError | undefined {
    if (closing) return new AiError('cancelled', `${capability}: the client is closed`, { retryable: false });
    const plan = plans[capability];
    if (plan.chain.length === 0) return new AiError('invalid_config', `capabilities.${capability}.chain: no ${capability} provider configured`, { retryable: false });
    return callOptionsError(plan.descriptor.operation, opts);
  }

  return {
    policy,
    stt: {
      transcribe: (req, opts) => call('stt', req, opts) as Promise<SttResult>,
      transcribeStream: (audio, req, opts) => transcribeStream(ctx, plans.stt, audio, req, opts ?? {}, refusal('stt', opts)),
    },
    tts: {
      synthesize: (req, opts) => call('tts', req, opts) as Promise<TtsResult>,
      synthesizeStream: (text, req, opts) => synthesizeStream(ctx, plans.tts, text, req, opts ?? {}, refusal('tts', opts)),
      prefetch: (texts, req, opts) => prefetchTts((r, o) => call('tts', r, o) as Promise<TtsResult>, ctx.caches.tts !== undefined, texts, req, opts),
    },
    eval: { evaluate: (req, opts) => call('eval', req, opts) as Promise<EvalResult> },
    breakerStates,
    inFlight: () => ctx.calls.size,
    close() {
      closing ??= (async () => {
        ctx.observer?.close?.();
        // Each provider object once, under the first key that names it.
        const unique = new Map<Provider, string>();
        for (const [key, p] of providers) if (!unique.has(p)) unique.set(p, key);
        try {
          await closeWithin({
            clock,
            timeoutMs: closeTimeoutMs,
            inflight: ctx.calls,
            background: ctx.background,
            cancelCalls: () => {
              for (const c of [...ctx.calls.values()]) c.abort('closing', 'the client is closing');
            },
            limiters,
            usage: ctx.usage,
            closeSinks: options.closeSinks !== false,
            providers: options.closeProviders !== false ? [...unique].map(([p, key]) => [key, p] as [string, Provider]) : [],
            report: reportBackground,
          });
        } catch (error) {
          // closeWithin does not throw; should it ever, close() still resolves.
          reportBackground({ where: 'close', error });
        }
      })();
      return closing;
    },
  };
}
