// What the call path needs from its client, prepared once at createAiClient: per capability,
// the descriptor and the chain with each step's breaker, limiter and price rows, so a call
// looks nothing up by string.
import type { CachedCapability } from '../cache/capability-cache.js';
import type { ResponseCache } from '../cache/response-cache.js';
import type { BudgetGuard } from '../budget/budget-guard.js';
import type { CapabilityDescriptor, CapabilityEnv } from '../capabilities/descriptor.js';
import type { AiClientEvents } from '../events.js';
import type { AiPolicy, CapabilityPolicy } from '../policy/ai-policy.js';
import type { CircuitBreaker } from '../policy/circuit-breaker.js';
import type { Clock, RandomSource } from '../policy/clock.js';
import type { Limiter } from '../policy/rate-limit.js';
import type { PricePlan, Pricer } from '../pricing/cost.js';
import type { AttemptContext, Capability, Provider } from '../spec/types.js';
import type { UsageFanOut } from '../usage/fan-out.js';
import type { CallObserver } from './call-observer.js';
import type { CallState } from './call-state.js';
import type { BackgroundWork, Tracker } from './tracker.js';

/** One step of a capability's chain. */
export interface ChainLink {
  index: number;
  /** The key in `providers`. */
  key: string;
  provider: Provider;
  breaker: CircuitBreaker;
  limiter: Limiter | undefined;
  /** The price rows of the provider's own model. */
  price: PricePlan;
  /** The provider may price a request as another model (a TTS voice): `descriptor.modelIdFor` is asked per call. */
  modelPerRequest: boolean;
}

/** One capability, ready to call. */
export interface CapabilityPlan {
  capability: Capability;
  descriptor: CapabilityDescriptor;
  policy: CapabilityPolicy;
  chain: ChainLink[];
  env: CapabilityEnv;
  /** Added to every AttemptContext of this capability. */
  attemptFields: Partial<AttemptContext> | undefined;
  /** Longest wait for a rate-limit slot, when the policy sets one. */
  maxSlotWaitMs: number | undefined;
}

/** The client, as its calls see it. */
export interface CallContext {
  policy: AiPolicy;
  plans: Record<Capability, CapabilityPlan>;
  pricer: Pricer;
  budget: BudgetGuard;
  usage: UsageFanOut;
  clock: Clock;
  random: RandomSource;
  events: AiClientEvents;
  /** Calls in flight; close() cancels them (cause 'closing') when they outlast its drain time. */
  calls: Tracker<CallState>;
  /** Work that outlives the call (budget settlement); close() waits for it. */
  background: BackgroundWork;
  /** The response caches the policy turns on (`cache.tts`, `cache.eval`); a capability without one is never cached. */
  caches: Partial<Record<CachedCapability, ResponseCache>>;
  /** The telemetry observer (`createAiClient({ telemetry })`); undefined: no call is traced. */
  observer: CallObserver | undefined;
}
