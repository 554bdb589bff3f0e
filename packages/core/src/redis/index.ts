// @korean-together/core/redis: shared (multi-process) budget store and rate limits on Redis.
// Kept on its own subpath so the main entry carries no Redis dependency (ioredis is an
// optional peer dependency, needed only by this entry).
export { createRedisBudgetStore, RedisBudgetStore } from './redis-budget-store.js';
export type { RedisBudgetStoreOptions } from './redis-budget-store.js';
export { createRedisCacheStore, RedisCacheStore } from './redis-cache-store.js';
export type { RedisCacheStoreOptions } from './redis-cache-store.js';
export { createRedisRateLimits, RedisRateLimits } from './redis-rate-limits.js';
export type { RedisRateLimitsOptions } from './redis-rate-limits.js';
export { SharedRateLimiter } from './shared-rate-limiter.js';
export type { SharedLimiterStats, SharedRateLimiterOptions } from './shared-rate-limiter.js';
export { RedisLink } from './redis-link.js';
export type { RedisLinkState } from './redis-link.js';
export { DEFAULT_REDIS_OPTIONS, createRedisClient } from './redis-client.js';
export { redactRedisUrl } from './redis-url.js';
export { normalizeBottleneckError, patchForBottleneck } from './bottleneck-redis7.js';
