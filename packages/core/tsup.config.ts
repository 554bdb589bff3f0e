import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'redis/index': 'src/redis/index.ts' },
  external: ['ioredis'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  tsconfig: '../../tsconfig.base.json',
});
