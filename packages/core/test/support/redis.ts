import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

/**
 * The Redis server the tests use: REDIS_URL. CI sets it; without it, scripts/test-global-setup.ts
 * sets it when a Redis answers on 127.0.0.1:6379 (or on KT_TEST_REDIS_PROBE). Unset: the tests
 * that need a server do not run.
 */
const redisUrl = process.env.REDIS_URL || undefined;

/**
 * Whether the tests that need a Redis server run in this file: true when REDIS_URL is set (and
 * then they fail loudly if that server is down). Otherwise warns that `what` is NOT RUN. Call it
 * once per file: `describe.runIf(redisTestsRun('...'))`.
 */
export function redisTestsRun(what: string): boolean {
  if (redisUrl) return true;
  console.warn(
    `\n*** ${what} NOT RUN: REDIS_URL is unset and no Redis answered on ${process.env.KT_TEST_REDIS_PROBE || '127.0.0.1:6379'}. ` +
      'Start one there (redis-server) or set REDIS_URL to run them. ***\n',
  );
  return false;
}

/** The Redis server the tests use (REDIS_URL); only for tests inside `describe.runIf(redisTestsRun(...))`. */
export function testRedisUrl(): string {
  if (!redisUrl) throw new Error('packages/core/test/support/redis.ts: REDIS_URL is unset; this test must run under describe.runIf(redisTestsRun(...))');
  return redisUrl;
}

/** A key prefix no other test or run uses: `kt-test:<run>:<label>:<random>`. */
export function uniquePrefix(label: string): string {
  const run = (process.env.KT_TEST_RUN_ID ?? 'local').replace(/[^A-Za-z0-9_-]/g, '_');
  return `kt-test:${run}:${label}:${randomBytes(4).toString('hex')}`;
}

/** A plain client for assertions and cleanup. */
export function adminClient(): Redis {
  const c = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
  c.on('error', () => {});
  return c;
}

/** Deletes every key matching `pattern` (SCAN, never KEYS): a test's own prefix only. */
export async function deleteKeys(client: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    if (keys.length) deleted += await client.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** The keys bottleneck keeps for a limiter id. */
export function bottleneckPattern(limiterIdPrefix: string): string {
  return `b_${limiterIdPrefix}*`;
}

/** The Redis side of one test file or describe block (useRedisKeys). */
export interface RedisKeys {
  /** A plain client for assertions and cleanup, from the beforeAll to the afterAll. */
  readonly admin: Redis;
  /** A prefix no other test or run uses (uniquePrefix); its keys are deleted in the afterAll. */
  prefix(label: string): string;
}

/**
 * Registers a `beforeAll` that opens an admin client and an `afterAll` that deletes the keys of
 * every prefix handed out (those matching `pattern(prefix)`) and disconnects. Call it where the
 * hooks belong: inside `describe.runIf(redisTestsRun(...))`, or at the top of a file with
 * `enabled` set to what redisTestsRun said (prefixes are still handed out when it is false).
 */
export function useRedisKeys(pattern: (prefix: string) => string, enabled = true): RedisKeys {
  let client: Redis | undefined;
  const prefixes: string[] = [];
  beforeAll(() => {
    if (enabled) client = adminClient();
  });
  afterAll(async () => {
    if (!client) return;
    for (const p of prefixes.splice(0)) await deleteKeys(client, pattern(p));
    client.disconnect();
    client = undefined;
  });
  return {
    get admin() {
      if (!client) throw new Error('useRedisKeys(): the admin client exists from its beforeAll to its afterAll (and only when Redis tests run)');
      return client;
    },
    prefix(label) {
      const p = uniquePrefix(label);
      prefixes.push(p);
      return p;
    },
  };
}
