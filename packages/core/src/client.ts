import { BudgetGuard } from './budget/budget-guard.js';
import type { BudgetStore } from './budget/budget-store.js';
import { MemoryBudgetStore } from './budget/memory-budget-store.js';
import { runCall, type AiClientEvents, type BackgroundErrorEvent, type CallContext } from './call.js';
import { closeWithin, DEFAULT_CLOSE_TIMEOUT_MS } from './client-close.js';
import { AiError } from './errors/ai-error.js';
import { definePolicy, type AiPolicy } from './policy/ai-policy.js';
import { CircuitBreaker, type BreakerState } from './policy/circuit-breaker.js';
import { AbortReason } from './policy/deadline.js';
import { systemClock, type Clock, type RandomSource } from './policy/clock.js';
import { LocalLimiter } from './policy/local-limiter.js';
import { RateLimiter, type Limiter, type LimiterBackendOptions, type SharedRateLimits } from './policy/rate-limit.js';
import { Pricer } from './pricing/cost.js';
import { defaultPriceTable, mergePriceTables, priceTableSchema, type PriceTable } from './pricing/price-table.js';
import { MAX_TIMER_MS, validateCallOptions, validateEvalRequest, validateSttRequest, validateTtsRequest } from './requests/validate.js';
import {
  CAPABILITIES,
  type CallOptions,
  type Capability,
  type EvalRequest,
  type EvalResult,
  type Provider,
  type SttProviderResult,
  type SttRequest,
  type SttResult,
  type TtsProviderResult,
  type TtsRequest,
  type TtsResult,
} from './spec/types.js';
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
  /** Close the sinks in `client.close()` (after flushing them). Default true. */
  closeSinks?: boolean;
  /** Call each provider's `close()` (gRPC channels) in `client.close()`. Default true. */
  closeProviders?: boolean;
  /**
   * Longest `client.close()` takes, ms, whatever its sinks, stores and providers do. In-flight
   * calls get the first third of it (then they are cancelled); what is still pending at the
   * end is reported through `events.onBackgroundError` (`where: 'close'`). Default 15000.
   */
  closeTimeoutMs?: number;
  /** Budget totals; default an in-memory store (one process). */
  budgetStore?: BudgetStore;
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
}

export interface AiClient {
  readonly policy: AiPolicy;
  readonly stt: { transcribe(req: SttRequest, opts?: CallOptions): Promise<SttResult> };
  readonly tts: { synthesize(req: TtsRequest, opts?: CallOptions): Promise<TtsResult> };
  readonly eval: { evaluate(req: EvalRequest, opts?: CallOptions): Promise<EvalResult> };
  /** Breaker state of every (capability, provider) in a chain, e.g. { 'stt:google': 'closed' }. */
  breakerStates(): Record<string, BreakerState>;
  /** Calls in flight right now. */
  inFlight(): number;
  /**
   * Refuses new calls, waits for in-flight ones, flushes (and by default closes) the sinks,
   * closes limiters and providers. Resolves within `closeTimeoutMs`, never rejects. Idempotent.
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
  // A handler that throws must never break a call or close().
  const reportBackground = (e: BackgroundErrorEvent): void => {
    try {
      events.onBackgroundError?.(e);
    } catch {
      // ignore
    }
  };
  const closingController = new AbortController();
  const table = resolvePricing(options.pricing);
  const pricer = new Pricer(table);

  const providers = new Map<string, Provider>();
  for (const [key, p] of Object.entries(options.providers)) {
    if (!p || typeof p !== 'object' || !CAPABILITIES.includes(p.capability) || typeof p.name !== 'string' || typeof p.modelId !== 'string') {
      throw new AiError('invalid_config', `providers.${key}: not a provider (needs capability 'stt'|'tts'|'eval', name and modelId)`, { retryable: false });
    }
    providers.set(key, p);
  }

  const chains = {} as Record<Capability, string[]>;
  const breakers = new Map<string, CircuitBreaker>();
  const limiters = new Map<string, Limiter>();
  for (const capability of CAPABILITIES) {
    const cap = policy.capabilities[capability];
    const chain = cap.chain.length ? [...cap.chain] : [...providers].filter(([, p]) => p.capability === capability).map(([k]) => k);
    cap.chain.forEach((key, i) => {
      const p = providers.get(key);
      if (!p) throw new AiError('invalid_config', `capabilities.${capability}.chain.${i}: no provider named '${key}' (known: ${[...providers.keys()].join(', ') || 'none'})`, { retryable: false });
      if (p.capability !== capability) {
        throw new AiError('invalid_config', `capabilities.${capability}.chain.${i}: provider '${key}' is a ${p.capability} provider, not ${capability}`, { retryable: false });
      }
    });
    for (const key of chain) {
      const p = providers.get(key)!;
      pricer.assertPriced(capability, p.modelId, key);
      const id = `${capability}:${key}`;
      breakers.set(id, new CircuitBreaker(id, cap.circuitBreaker, clock, events));
      if (cap.rateLimit?.shared) {
        if (!options.sharedRateLimits) {
          throw new AiError('invalid_config', `capabilities.${capability}.rateLimit.shared: needs createAiClient({ sharedRateLimits: createRedisRateLimits() }) from @korean-together/core/redis`, { retryable: false });
        }
        limiters.set(id, options.sharedRateLimits.limiterFor({ capability, providerKey: key, policy: cap.rateLimit, attemptTimeoutMs: cap.attemptTimeoutMs, clock }));
      } else if (cap.rateLimit && (cap.rateLimit.maxConcurrent !== undefined || cap.rateLimit.perSecond !== undefined)) {
        const backend = options.limiterBackend?.(capability, key);
        limiters.set(id, backend ? new RateLimiter(id, cap.rateLimit, clock, backend) : new LocalLimiter(cap.rateLimit, clock));
      }
    }
    chains[capability] = chain;
  }

  const sinks = options.sinks ?? [];
  const ctx: CallContext = {
    policy,
    providers,
    chains,
    breakers,
    limiters,
    pricer,
    budget: new BudgetGuard(policy.budget, options.budgetStore ?? new MemoryBudgetStore({ now: () => clock.now() })),
    usage: new UsageFanOut(sinks, (error) => reportBackground({ where: 'sink', error })),
    clock,
    random,
    events,
    background: (work) => {
      background.add(work);
      const done = () => background.delete(work);
      work.then(done, done);
    },
    closing: closingController.signal,
  };

  const inflight = new Set<Promise<unknown>>();
  const background = new Set<Promise<unknown>>();
  let closing: Promise<void> | undefined;

  function track<T>(capability: Capability, opts: CallOptions, run: () => Promise<T>): Promise<T> {
    if (closing) return Promise.reject(new AiError('cancelled', `${capability}: the client is closed`, { retryable: false }));
    if (ctx.chains[capability].length === 0) {
      return Promise.reject(new AiError('invalid_config', `capabilities.${capability}.chain: no ${capability} provider configured`, { retryable: false }));
    }
    let p: Promise<T>;
    try {
      validateCallOptions(capability, opts);
      p = run();
    } catch (e) {
      return Promise.reject(e);
    }
    inflight.add(p);
    const done = () => inflight.delete(p);
    p.then(done, done);
    return p;
  }

  return {
    policy,
    stt: {
      transcribe(req, opts = {}) {
        return track('stt', opts, async () => {
          validateSttRequest(req);
          const { raw, meta } = await runCall(ctx, 'stt', req, opts);
          const r = raw as SttProviderResult;
          return { transcript: r.transcript, ...(r.confidence !== undefined && { confidence: r.confidence }), audioDurationMs: r.audioDurationMs, meta };
        });
      },
    },
    tts: {
      synthesize(req, opts = {}) {
        return track('tts', opts, async () => {
          validateTtsRequest(req, policy.capabilities.tts.maxTextBytes);
          const { raw, meta } = await runCall(ctx, 'tts', req, opts);
          const r = raw as TtsProviderResult;
          return { audio: r.audio, encoding: r.encoding, characters: r.characters, ...(r.audioDurationMs !== undefined && { audioDurationMs: r.audioDurationMs }), meta };
        });
      },
    },
    eval: {
      evaluate(req, opts = {}) {
        return track('eval', opts, async () => {
          validateEvalRequest(req);
          const { evalOutput, meta } = await runCall(ctx, 'eval', req, opts);
          const o = evalOutput!;
          return { score: o.score, passFail: o.passFail, primaryErrorType: o.primaryErrorType, errors: o.errors, suggestions: o.suggestions, rationale: o.rationale, meta };
        });
      },
    },
    breakerStates() {
      const out: Record<string, BreakerState> = {};
      for (const [id, b] of breakers) out[id] = b.state;
      return out;
    },
    inFlight: () => inflight.size,
    close() {
      closing ??= (async () => {
        // Each provider object once, under the first key that names it.
        const unique = new Map<Provider, string>();
        for (const [key, p] of providers) if (!unique.has(p)) unique.set(p, key);
        try {
          await closeWithin({
            clock,
            timeoutMs: closeTimeoutMs,
            inflight,
            background,
            cancelCalls: () => closingController.abort(new AbortReason('closing', 'the client is closing')),
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
