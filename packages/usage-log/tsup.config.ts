import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  // Every core entry ('@korean-together/core', './provider-kit', './testing') stays an import of
  // the host's core: a bundled copy would hold its own AiError class, which isAiError and
  // `instanceof` in the host would tell apart.
  external: [/^@korean-together\/core(\/.*)?$/],
  format: ['esm', 'cjs'],
  // p-timeout ships ESM only; bundled, the CJS build loads on every Node 20.
  noExternal: ['p-timeout'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  tsconfig: '../../tsconfig.base.json',
});
