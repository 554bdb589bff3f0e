import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis server the tests use: REDIS_URL, or the one running on this machine. */
export function testRedisUrl(): string {
  return process.env.REDIS_URL || 'redis://127.0.0.1:6379';
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
