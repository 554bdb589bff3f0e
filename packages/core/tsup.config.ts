import { defineConfig } from 'tsup';

export default defineConfig([{
  entry: { index: 'src/index.ts', 'provider-kit': 'src/provider-kit.ts', 'testing/index': 'src/testing/index.ts', 'redis/index': 'src/redis/index.ts', 'otel/index': 'src/otel/index.ts' },
  external: ['ioredis', '@opentelemetry/api'],
  format: ['esm', 'cjs'],
  // p-timeout ships ESM only; bundled, the CJS build loads on every Node 20.
  noExternal: ['p-timeout'],
  dts: true,
  clean: true,
  // Shared chunks for both formats: the ./redis, ./provider-kit and ./testing entries then use
  // the main entry's classes (AiError, LocalLimiter) instead of bundling copies that
  // `instanceof` would tell apart.
  splitting: true,
  sourcemap: true,
  target: 'node20',
  tsconfig: '../../tsconfig.base.json',
},
{
  // The CLI (korean-together-policy): one ESM file with a shebang, run through package.json "bin".
  entry: { 'cli/policy-cli': 'src/cli/policy-cli.ts' },
  external: ['ioredis'],
  noExternal: ['p-retry', 'p-timeout'],
  format: ['esm'],
  dts: false,
  clean: false,
  sourcemap: true,
  target: 'node20',
  tsconfig: '../../tsconfig.base.json',
}]);
