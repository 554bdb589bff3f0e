import Bottleneck from 'bottleneck';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { deleteKeys, redisTestsRun, testRedisUrl, useRedisKeys, type RedisKeys } from '../../test/support/redis.js';
import { normalizeBottleneckError, patchForBottleneck } from './bottleneck-redis7.js';

const onRedis = redisTestsRun('bottleneck-redis7 tests on the Redis server');
let redis: RedisKeys;

/** A clustered limiter whose keys are then deleted, as after a Redis restart without persistence. */
async function limiterAfterKeysVanish(patched: boolean): Promise<{ run: () => Promise<unknown>; close: () => Promise<void> }> {
  const id = redis.prefix('bn7');
  const raw = new Redis(testRedisUrl());
  const client = patched ? patchForBottleneck(raw) : raw;
  const connection = new Bottleneck.IORedisConnection({ client, Redis });
  connection.on('error', () => {});
  const limiter = new Bottleneck({ id, datastore: 'ioredis', connection, maxConcurrent: 2, minTime: 5 });
  limiter.on('error', () => {});
  await limiter.schedule(async () => 'warm');
  await deleteKeys(redis.admin, `b_${id}_*`);
  return { run: () => limiter.schedule(async () => 'ok'), close: () => connection.disconnect(false) };
}

describe.runIf(onRedis)('bottleneck 2.19.5 on Redis 7', () => {
  redis = useRedisKeys((id) => `b_${id}_*`);

  it('unpatched, a limiter whose keys vanished stays broken: Redis 7 says "ERR SETTINGS_KEY_NOT_FOUND" (upstream bug this module works around)', async () => {
    const l = await limiterAfterKeysVanish(false);
    await expect(l.run()).rejects.toThrow(/^ERR SETTINGS_KEY_NOT_FOUND$/);
    await l.close();
  });

  it('patched, the same limiter re-creates its keys and runs the job', async () => {
    const l = await limiterAfterKeysVanish(true);
    await expect(l.run()).resolves.toBe('ok');
    await l.close();
  });
});

describe('bottleneck 2.19.5 on Redis 7: error replies', () => {
  it('normalises only the replies bottleneck raises and compares', () => {
    const e = (m: string) => (normalizeBottleneckError(new Error(m)) as Error).message;
    expect(e('ERR SETTINGS_KEY_NOT_FOUND')).toBe('SETTINGS_KEY_NOT_FOUND');
    expect(e('ERR UNKNOWN_CLIENT')).toBe('UNKNOWN_CLIENT');
    expect(e('ERR OVERWEIGHT:3:2')).toBe('OVERWEIGHT:3:2');
    expect(e('ERR unknown command')).toBe('ERR unknown command');
    expect(e('ERR SETTINGS_KEY_NOT_FOUND and more')).toBe('ERR SETTINGS_KEY_NOT_FOUND and more');
    expect(normalizeBottleneckError('not an error')).toBe('not an error');
  });
});
