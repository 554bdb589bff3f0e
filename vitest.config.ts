import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

const ALL_TESTS = ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'examples/**/*.test.ts'];
/** The tests whose database is the server named by DATABASE_URL, or PGlite without it (test-support/db.ts). */
const DATABASE_TESTS = ['packages/sql/src/**/*.test.ts', 'packages/usage-log/src/**/*.test.ts', 'packages/usage-log/test/**/*.test.ts', 'examples/server/src/stats.test.ts'];

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
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ['./scripts/test-global-setup.ts'],
    // With DATABASE_URL set, the database tests run twice: on that server, and again on embedded
    // PGlite (DATABASE_URL blanked for those workers), so both backends are exercised by every
    // run of `pnpm test`, CI's included. Without it they run once, on PGlite.
    // (Each project names its own files: an extending project's include would add to the root's.)
    ...(process.env.DATABASE_URL
      ? {
          projects: [
            { extends: true, test: { name: 'server', include: ALL_TESTS } },
            { extends: true, test: { name: 'pglite', include: DATABASE_TESTS, env: { DATABASE_URL: '' } } },
          ],
        }
      : { include: ALL_TESTS }),
  },
});
