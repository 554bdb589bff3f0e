import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  // p-retry and p-timeout ship ESM only; bundled, the CJS build loads on every Node 20.
  noExternal: ['p-retry', 'p-timeout'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  tsconfig: '../../tsconfig.base.json',
});
