import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AiError } from '../errors/ai-error.js';

// Node timers take at most 2^31 - 1 ms; a longer delay would fire at once.
const MAX_TIMER_MS = 2_147_483_647;
const positiveMs = z.number({ error: 'must be a number of milliseconds' }).int('must be an integer').positive('must be > 0').max(MAX_TIMER_MS, `must be <= ${MAX_TIMER_MS}`);
const nonNegativeMs = z.number({ error: 'must be a number of milliseconds' }).int('must be an integer').min(0, 'must be >= 0').max(MAX_TIMER_MS, `must be <= ${MAX_TIMER_MS}`);

const retrySchema = z
  .object({
    /** Attempts per chain step, the first try included. */
    maxAttempts: z.number().int('must be an integer').min(1, 'must be >= 1').max(10, 'must be <= 10').default(2),
    /** First backoff delay before jitter, ms. */
    initialDelayMs: nonNegativeMs.default(200),
    /** Upper bound of one backoff delay, ms. */
    maxDelayMs: nonNegativeMs.default(2_000),
    /** Longest provider-requested wait (Retry-After / RetryInfo) honoured, ms; longer asks move to the next chain step. */
    maxRetryAfterMs: nonNegativeMs.default(5_000),
  })
  .strict()
  .refine((r) => r.maxDelayMs >= r.initialDelayMs, { message: 'must be >= initialDelayMs', path: ['maxDelayMs'] });

const breakerSchema = z
  .object({
    /** Consecutive failed attempts that open the breaker. */
    failureThreshold: z.number().int('must be an integer').min(1, 'must be >= 1').default(5),
    /** How long an open breaker skips the provider before one half-open probe, ms. */
    cooldownMs: positiveMs.default(30_000),
  })
  .strict();

/** Where a rate limit is kept when several processes must share it (see packages/core/REDIS.md). */
const sharedRateLimitSchema = z
  .object({
    /**
     * Name of the environment variable that holds the Redis URL, read when the code passes no
     * url or client to `createRedisRateLimits`. Policy files name the variable, never the URL,
     * so they carry no password. Default 'REDIS_URL'.
     */
    redisUrlEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name (letters, digits, underscore)')
      .default('REDIS_URL'),
    /**
     * First part of the limiter id in Redis: `<keyPrefix>:<capability>:<providerKey>`. Every
     * process that shares a limit uses the same prefix; separate apps or environments on one
     * Redis use different ones. Default 'kt:rl'.
     */
    keyPrefix: z
      .string()
      .min(1, 'must not be empty')
      .max(100, 'must be at most 100 characters')
      .regex(/^\S+$/, 'must not contain whitespace')
      .default('kt:rl'),
    /**
     * While Redis is unreachable: 'local' (default) keeps calling under a per-process limiter
     * with the same limits (fail open: N processes may then reach N times the limit); 'closed'
     * refuses the attempt with `rate_limited` (fail closed: the chain moves on).
     */
    onRedisDown: z.enum(['local', 'closed']).default('local'),
    /**
     * How long an attempt waits for a first Redis connection before treating Redis as down, ms
     * (bounded by maxWaitMs and the attempt timeout). Default 2000.
     */
    connectWaitMs: nonNegativeMs.default(2_000),
  })
  .strict();

const rateLimitSchema = z
  .object({
    /** Most attempts in flight at once, per provider. */
    maxConcurrent: z.number().int('must be an integer').positive('must be > 0').optional(),
    /** Most attempts started per second, per provider. */
    perSecond: z.number().positive('must be > 0').optional(),
    /** How long an attempt may wait for a slot before failing with rate_limited, ms (bounded by the deadline). */
    maxWaitMs: nonNegativeMs.optional(),
    /**
     * Share this limit across processes through Redis (bottleneck clustering). Needs
     * `createAiClient({ sharedRateLimits: createRedisRateLimits() })` from `@korean-together/core/redis`.
     * Absent: the limit holds per process.
     */
    shared: sharedRateLimitSchema.optional(),
  })
  .strict()
  .refine((r) => !r.shared || r.maxConcurrent !== undefined || r.perSecond !== undefined, {
    message: 'a shared rate limit needs perSecond or maxConcurrent',
    path: ['shared'],
  });

function capabilityShape(defaults: { deadlineMs: number; attemptTimeoutMs: number }) {
  return {
    /** Keys of `providers`, tried in order. Empty: every provider of this capability, in the order given. */
    chain: z.array(z.string().min(1, 'must not be empty')).default([]),
    /** Whole-call deadline, ms: retries, backoff and fallbacks all fit inside it. */
    deadlineMs: positiveMs.default(defaults.deadlineMs),
    /** Longest single attempt, ms; shortened to the time left before the deadline. */
    attemptTimeoutMs: positiveMs.default(defaults.attemptTimeoutMs),
    retry: retrySchema.prefault({}),
    circuitBreaker: breakerSchema.prefault({}),
    rateLimit: rateLimitSchema.optional(),
    /** Start the next chain step too when an attempt has not answered after this many ms. */
    hedgeAfterMs: positiveMs.optional(),
  };
}

const timeoutWithinDeadline: [(c: { attemptTimeoutMs: number; deadlineMs: number }) => boolean, { message: string; path: string[] }] = [
  (c) => c.attemptTimeoutMs <= c.deadlineMs,
  { message: 'must be <= deadlineMs', path: ['attemptTimeoutMs'] },
];

const sttSchema = z
  .object({
    ...capabilityShape({ deadlineMs: 15_000, attemptTimeoutMs: 8_000 }),
    /**
     * Streams (`transcribeStream`): longest wait from the first audio an attempt sends to its
     * first result (interim or final), ms; past it the attempt has failed ('timeout') and the
     * buffered audio goes to the next one. Default 3000.
     */
    firstResultTimeoutMs: positiveMs.default(3_000),
  })
  .strict()
  .refine(...timeoutWithinDeadline);
const ttsSchema = z
  .object({
    ...capabilityShape({ deadlineMs: 10_000, attemptTimeoutMs: 5_000 }),
    /** Longest text accepted, in UTF-8 bytes; adapters split text over a provider's own limit (Google: 5000 bytes). */
    maxTextBytes: z.number().int('must be an integer').positive('must be > 0').default(20_000),
    /**
     * Streams (`synthesizeStream`): longest wait from the first text an attempt reads to its
     * first audio chunk, ms; past it the attempt has failed ('timeout') and the next chain step
     * gets the text. Default 2000.
     */
    firstAudioTimeoutMs: positiveMs.default(2_000),
  })
  .strict()
  .refine(...timeoutWithinDeadline);
const evalSchema = z
  .object({
    ...capabilityShape({ deadlineMs: 20_000, attemptTimeoutMs: 10_000 }),
    /** Score at or above which an answer passes (0..100). */
    passMark: z.number().int('must be an integer').min(0, 'must be >= 0').max(100, 'must be <= 100').default(70),
    /** Output token cap sent to the model and used for the worst-case budget reservation. */
    maxOutputTokens: z.number().int('must be an integer').positive('must be > 0').default(1_024),
  })
  .strict()
  .refine(...timeoutWithinDeadline);

// A cache entry may outlive a timer: its expiry is a timestamp, not a setTimeout.
const MAX_CACHE_TTL_MS = 31_536_000_000;
const cacheTtlMs = z.number({ error: 'must be a number of milliseconds' }).int('must be an integer').positive('must be > 0').max(MAX_CACHE_TTL_MS, `must be <= ${MAX_CACHE_TTL_MS} (365 days)`);
const cacheBytes = z.number({ error: 'must be a number of bytes' }).int('must be an integer').positive('must be > 0').max(Number.MAX_SAFE_INTEGER, 'must be a safe integer');

const cacheSchema = z
  .object({
    /** TTS: the audio of identical requests (same provider, voice, normalised text, encoding, rate). Absent: not cached. */
    tts: z
      .object({
        /** How long a synthesised line stays cached, ms. Required. */
        ttlMs: cacheTtlMs,
        /** Most bytes the in-process (memory) store holds for TTS, least recently used evicted first. Default 67,108,864 (64 MiB). */
        maxBytes: cacheBytes.default(67_108_864),
      })
      .strict()
      .optional(),
    /** Eval: the checked grade of identical answers to the same task, under the same chain and pass mark. Absent: not cached. */
    eval: z
      .object({
        /** How long a grade stays cached, ms. Required. */
        ttlMs: cacheTtlMs,
        /** Most bytes the in-process (memory) store holds for grades. Default 16,777,216 (16 MiB). */
        maxBytes: cacheBytes.default(16_777_216),
      })
      .strict()
      .optional(),
    /** Longest wait for one cache store operation, ms; past it the call goes on without the cache. Default 100. */
    storeTimeoutMs: positiveMs.default(100),
  })
  .strict();

export const aiPolicySchema = z
  .object({
    capabilities: z
      .object({
        stt: sttSchema.prefault({}),
        tts: ttsSchema.prefault({}),
        eval: evalSchema.prefault({}),
      })
      .strict()
      .prefault({}),
    budget: z
      .object({
        /** Cap on spend per learner session, USD. */
        perSessionUsd: z.number().positive('must be > 0').optional(),
        /** Cap on spend per UTC day, USD. */
        perDayUsd: z.number().positive('must be > 0').optional(),
      })
      .strict()
      .prefault({}),
    /** The SDK's response caches (cache/): each capability is cached only when its entry is set. */
    cache: cacheSchema.prefault({}),
  })
  .strict();

export type AiPolicy = z.output<typeof aiPolicySchema>;
export type AiPolicyInput = z.input<typeof aiPolicySchema>;
/** What every capability's policy has (each adds its own fields). */
export type CapabilityPolicy = Omit<AiPolicy['capabilities']['stt'], 'firstResultTimeoutMs'>;
export type SttCapabilityPolicy = AiPolicy['capabilities']['stt'];
export type TtsCapabilityPolicy = AiPolicy['capabilities']['tts'];
export type EvalCapabilityPolicy = AiPolicy['capabilities']['eval'];
export type CachePolicy = AiPolicy['cache'];
export type RetryPolicy = CapabilityPolicy['retry'];
export type CircuitBreakerPolicy = CapabilityPolicy['circuitBreaker'];
export type RateLimitPolicy = NonNullable<CapabilityPolicy['rateLimit']>;
export type SharedRateLimitPolicy = NonNullable<RateLimitPolicy['shared']>;

function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const path = i.path.map(String).join('.') || '(root)';
      if (i.code === 'unrecognized_keys') return `${path ? `${path}: ` : ''}unknown key(s) ${i.keys.map((k) => `'${k}'`).join(', ')}`.replace(/^\(root\): /, '');
      return `${path}: ${i.message}`;
    })
    .join('; ');
}

/**
 * Validates a policy and fills in every default. Throws AiError `invalid_config` whose
 * message names every bad path, e.g. `capabilities.stt.attemptTimeoutMs: must be > 0`.
 */
export function definePolicy(input: unknown = {}): AiPolicy {
  if (isDefinedPolicy(input)) return input;
  const parsed = aiPolicySchema.safeParse(input ?? {});
  if (!parsed.success) {
    throw new AiError('invalid_config', `invalid AI policy: ${formatIssues(parsed.error)}`, { retryable: false, cause: parsed.error });
  }
  const policy = deepFreeze(parsed.data);
  defined.add(policy);
  return policy;
}

// Policies made by definePolicy: validated once, never again (a frozen look-alike is not enough).
const defined = new WeakSet<object>();

/** True for a policy returned by `definePolicy` / `loadPolicy` (validated, defaults filled, frozen). */
export function isDefinedPolicy(value: unknown): value is AiPolicy {
  return typeof value === 'object' && value !== null && defined.has(value);
}

/** Reads a JSON policy file and validates it like `definePolicy`; errors name the file. */
export function loadPolicy(path: string): AiPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new AiError('invalid_config', `cannot read AI policy file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { retryable: false, cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new AiError('invalid_config', `AI policy file ${path} is not valid JSON: ${(e as Error).message}`, { retryable: false, cause: e });
  }
  try {
    return definePolicy(json);
  } catch (e) {
    throw new AiError('invalid_config', `${path}: ${(e as Error).message}`, { retryable: false, cause: e });
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The policy with every default filled in; docs/AI_POLICY.md documents these values. */
export const defaultPolicy: AiPolicy = definePolicy({});
