// The fault profile format: per provider key, how long it takes and how it fails.
import { z } from 'zod';
import { AiError } from '../../errors/ai-error.js';
import type { AiPolicy } from '../../policy/ai-policy.js';
import { CAPABILITIES, type Capability } from '../../spec/types.js';

const nonNegMs = z.number().finite('must be a finite number').min(0, 'must be >= 0');
const probability = z.number().min(0, 'must be >= 0').max(1, 'must be <= 1');

export const latencySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('fixed'), ms: nonNegMs }).strict(),
  z.object({ kind: z.literal('normal'), meanMs: nonNegMs, stdDevMs: nonNegMs }).strict(),
  z.object({ kind: z.literal('lognormal'), medianMs: z.number().positive('must be > 0'), sigma: nonNegMs }).strict(),
  z
    .object({
      kind: z.literal('samples'),
      ms: z.array(nonNegMs).min(1, 'needs at least one sample'),
      /**
       * Lower bounds: attempts stopped after this long with no answer yet (a lost hedge, a caller
       * abort). Each is drawn as often as a sample and then replaced by a uniform draw among the
       * samples above it (the provider would have answered later), or itself if none is above.
       */
      censoredMs: z.array(nonNegMs).optional(),
    })
    .strict(),
]);

export const faultSchema = z
  .object({
    /** hang: never answers (the attempt timeout ends it); status: an HTTP error; retry_after: 429 with Retry-After; schema_violation: an eval answer that breaks the schema. */
    kind: z.enum(['hang', 'status', 'retry_after', 'schema_violation']),
    /** HTTP status for `status` (mapped like the adapters map it: 503 unavailable, 429 rate_limited, 400 invalid_request, ...). */
    status: z.number().int('must be an integer').min(400, 'must be 400..599').max(599, 'must be 400..599').optional(),
    /** Retry-After for `retry_after`, ms. Default 1000. */
    retryAfterMs: nonNegMs.optional(),
    /** Chance per attempt, 0..1. */
    probability,
    /** Active from this many virtual ms after the start (default 0) ... */
    fromMs: nonNegMs.optional(),
    /** ... until this many (default: for ever): an outage window. */
    toMs: nonNegMs.optional(),
    /** How long before the error answer, ms. Default: a draw from the provider's latency. */
    afterMs: nonNegMs.optional(),
  })
  .strict()
  .refine((f) => f.kind !== 'status' || f.status !== undefined, { message: "a 'status' fault needs status", path: ['status'] })
  .refine((f) => f.fromMs === undefined || f.toMs === undefined || f.toMs > f.fromMs, { message: 'must be > fromMs', path: ['toMs'] });

export const providerProfileSchema = z
  .object({
    latency: latencySchema,
    faults: z.array(faultSchema).default([]),
    /** Needed only for a provider no chain names (the policy's chain is empty: every provider of the capability). */
    capability: z.enum(CAPABILITIES).optional(),
    /** The model billed (default per capability: gemini-2.5-flash, whisper-1, ko-KR-Wavenet-A). */
    modelId: z.string().min(1, 'must not be empty').optional(),
    /** Eval tokens per answer. Defaults 1000 in, 200 out. */
    tokensIn: z.number().int('must be an integer').min(0, 'must be >= 0').optional(),
    tokensOut: z.number().int('must be an integer').min(0, 'must be >= 0').optional(),
  })
  .strict();

export const profilesSchema = z.record(z.string().min(1), providerProfileSchema);

export type LatencyProfile = z.input<typeof latencySchema>;
export type FaultProfile = z.input<typeof faultSchema>;
export type ProviderProfile = z.input<typeof providerProfileSchema>;
export type ProviderProfiles = Record<string, ProviderProfile>;
export type ParsedProfile = z.output<typeof providerProfileSchema> & { capability: Capability; modelId: string };

export const DEFAULT_MODEL: Record<Capability, string> = { stt: 'whisper-1', tts: 'ko-KR-Wavenet-A', eval: 'gemini-2.5-flash' };

/** Zod issues as one message naming each bad path under `root`. */
export function zodIssues(root: string, error: z.ZodError): string {
  return error.issues.map((i) => `${[root, ...i.path.map(String)].join('.')}: ${i.code === 'unrecognized_keys' ? `unknown key(s) ${i.keys.join(', ')}` : i.message}`).join('; ');
}

export function configError(message: string): AiError {
  return new AiError('invalid_config', `simulatePolicy: ${message}`, { retryable: false });
}

/**
 * Validates the profiles against the policy: every key a chain names has a profile, every
 * profile is a provider some chain uses (or, for a capability whose chain is empty, says its
 * capability), probabilities active at once add up to at most 1.
 */
export function parseProfiles(policy: AiPolicy, input: unknown): Map<string, ParsedProfile> {
  const parsed = profilesSchema.safeParse(input);
  if (!parsed.success) throw configError(zodIssues('profiles', parsed.error));
  const chainOf = new Map<string, Capability>();
  for (const capability of CAPABILITIES) for (const key of policy.capabilities[capability].chain) chainOf.set(key, capability);
  const out = new Map<string, ParsedProfile>();
  for (const [key, p] of Object.entries(parsed.data)) {
    const named = chainOf.get(key);
    if (named && p.capability && p.capability !== named) throw configError(`profiles.${key}.capability: '${p.capability}', but capabilities.${named}.chain names '${key}'`);
    const capability = named ?? p.capability;
    if (!capability) {
      const chains = CAPABILITIES.map((c) => `${c}: [${policy.capabilities[c].chain.join(', ')}]`).join('; ');
      throw configError(`profiles.${key}: unknown provider key (no chain names it: ${chains}; for a capability whose chain is empty, set capability)`);
    }
    if (!named && policy.capabilities[capability].chain.length > 0) {
      throw configError(`profiles.${key}: unknown provider key (capabilities.${capability}.chain is [${policy.capabilities[capability].chain.join(', ')}])`);
    }
    p.faults.forEach((f, i) => {
      if (f.kind === 'schema_violation' && capability !== 'eval') throw configError(`profiles.${key}.faults.${i}.kind: schema_violation applies to eval providers only`);
    });
    // Probabilities active at the same time must leave room: check at every window start.
    for (const at of new Set([0, ...p.faults.map((f) => f.fromMs ?? 0)])) {
      const sum = p.faults.filter((f) => (f.fromMs ?? 0) <= at && (f.toMs === undefined || at < f.toMs)).reduce((s, f) => s + f.probability, 0);
      if (sum > 1 + 1e-12) throw configError(`profiles.${key}.faults: probabilities active at ${at} ms add up to ${sum}, more than 1`);
    }
    out.set(key, { ...p, capability, modelId: p.modelId ?? DEFAULT_MODEL[capability] });
  }
  for (const capability of CAPABILITIES) {
    policy.capabilities[capability].chain.forEach((key, i) => {
      if (!out.has(key)) throw configError(`profiles: no profile for '${key}' (capabilities.${capability}.chain.${i})`);
    });
  }
  return out;
}
