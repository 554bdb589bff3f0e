import { Redis, type RedisOptions } from 'ioredis';

/**
 * ioredis options for the clients this package creates from a URL. ioredis' own defaults
 * suit a cache, not a limiter on a call's hot path: a command would wait through 20
 * reconnect attempts (many seconds) before failing. Here a command fails after one failed
 * reconnect, so the caller's Redis-down behaviour takes over quickly. Overridable per field.
 */
export const DEFAULT_REDIS_OPTIONS: RedisOptions = {
  maxRetriesPerRequest: 1,
  connectTimeout: 5_000,
  retryStrategy: (times: number) => Math.min(times * 100, 2_000),
};

/** A client from a URL (checked beforehand) with DEFAULT_REDIS_OPTIONS under `options`. */
export function createRedisClient(url: string, options: RedisOptions = {}): Redis {
  const client = new Redis(url, { ...DEFAULT_REDIS_OPTIONS, ...options });
  // ioredis prints unhandled 'error' events to the console; the owners of this client report
  // failures through their own results and events instead.
  client.on('error', () => {});
  return client;
}

/** Closes a client this package created: QUIT when connected, else drop the socket. Never throws. */
export async function closeRedisClient(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    try {
      await Promise.race([client.quit(), new Promise((r) => setTimeout(r, 1_000).unref())]);
    } catch {
      // fall through to disconnect
    }
  }
  client.disconnect();
}
