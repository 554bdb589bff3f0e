import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// Tests import sibling packages by their public names; resolve those to source so a test run
// never depends on a stale build.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@korean-together\/core\/redis$/, replacement: src('./packages/core/src/redis/index.ts') },
      { find: /^@korean-together\/core\/provider-kit$/, replacement: src('./packages/core/src/provider-kit.ts') },
      { find: /^@korean-together\/core\/testing$/, replacement: src('./packages/core/src/testing/index.ts') },
      { find: /^@korean-together\/core\/otel$/, replacement: src('./packages/core/src/otel/index.ts') },
      { find: /^@korean-together\/core$/, replacement: src('./packages/core/src/index.ts') },
      { find: /^@korean-together\/providers\/emulators$/, replacement: src('./packages/providers/src/emulators/index.ts') },
      { find: /^@korean-together\/providers$/, replacement: src('./packages/providers/src/index.ts') },
      { find: /^@korean-together\/usage-log$/, replacement: src('./packages/usage-log/src/index.ts') },
      { find: /^@korean-together\/sql$/, replacement: src('./packages/sql/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'examples/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ['./scripts/test-global-setup.ts'],
  },
});
