import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'redis/index': 'src/redis/index.ts' },
  external: ['ioredis'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  // Shared chunks for both formats: the ./redis entry then uses the main entry's classes
  // (RateLimiter, AiError) instead of bundling copies that `instanceof` would tell apart.
  splitting: true,
  sourcemap: true,
  target: 'node20',
  tsconfig: '../../tsconfig.base.json',
});
