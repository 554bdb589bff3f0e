import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'emulators/index': 'src/emulators/index.ts', 'emulators/cli': 'src/emulators/cli.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  tsconfig: '../../tsconfig.base.json',
});
