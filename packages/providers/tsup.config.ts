import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'emulators/index': 'src/emulators/index.ts', 'emulators/cli': 'src/emulators/cli.ts' },
  // Every core entry ('@korean-together/core', './provider-kit', './testing') stays an import of
  // the host's core: a bundled copy would hold its own AiError class, which isAiError and
  // `instanceof` in the host would tell apart.
  external: [/^@korean-together\/core(\/.*)?$/],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  tsconfig: '../../tsconfig.base.json',
});
