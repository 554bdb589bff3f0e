// @korean-together/core/redis: shared (multi-process) budget store and rate-limit backend on Redis.
// Kept on its own subpath so the main entry carries no Redis dependency.
export {};
