// What a capability means to the call path. The path itself (engine/, call.ts) is generic: it
// asks the capability's descriptor for everything that differs between STT, TTS and eval.
import type { AiPolicy } from '../policy/ai-policy.js';
import type { Pricer, UsageUnits } from '../pricing/cost.js';
import type { AttemptContext, Capability, Provider, ResultMeta } from '../spec/types.js';

/** A chain step as a descriptor sees it: the key and the provider behind it. */
export interface ChainProvider {
  key: string;
  provider: Provider;
}

/** What a descriptor may consult when checking a request: fixed for the life of a client. */
export interface CapabilityEnv {
  policy: AiPolicy;
  pricer: Pricer;
  chain: readonly ChainProvider[];
}

/**
 * One capability: its operation name, request validation, provider invocation, usage units,
 * worst-case units and result. `Facts` is what validation learnt (the measured audio length)
 * and hands on to the worst case; `Raw` is the provider's answer; `Checked` what `check` made
 * of it (the parsed eval output).
 */
export interface CapabilityDescriptor<Req = unknown, Facts = unknown, Raw = unknown, Checked = unknown, Result = unknown> {
  readonly capability: Capability;
  /** Names the call in messages: 'stt.transcribe'. */
  readonly operation: string;
  /** Refuses a bad request with `invalid_request` naming the field, before anything is reserved or sent. */
  validate(req: unknown, env: CapabilityEnv): Facts;
  /** The model this request will be priced as on `provider` (a TTS voice can choose it). */
  modelIdFor(provider: Provider, req: Req): string;
  /** Fields this capability adds to every AttemptContext (eval: the pass mark and output cap). */
  attemptFields?(policy: AiPolicy): Partial<AttemptContext>;
  /** One provider call. */
  invoke(provider: Provider, req: Req, ctx: AttemptContext): Promise<Raw>;
  /** Checks a provider's answer (eval: the output schema and pass mark); throws AiError `schema_violation`. */
  check(raw: Raw, policy: AiPolicy, providerKey: string): Checked;
  /** What an answered attempt billed, in the price table's units. */
  units(raw: Raw): UsageUnits;
  /** The most one attempt of this request can bill (an upper bound, for budget reservations). */
  worstCase(req: Req, facts: Facts, policy: AiPolicy): UsageUnits;
  /** The caller's result, from the winning attempt. */
  result(raw: Raw, checked: Checked, meta: ResultMeta): Result;
}
