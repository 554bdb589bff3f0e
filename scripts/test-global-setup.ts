import { randomBytes } from 'node:crypto';
import { dropRunObjects, testRunPrefix } from '../test-support/db.js';

// One id per `vitest run`: tests that touch a database create their schemas under it
// (see test-support/db.ts), so concurrent runs never see each other's rows.
export default function setup(): () => Promise<void> {
  process.env.KT_TEST_RUN_ID ??= `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const prefix = testRunPrefix();
  // Teardown: drop whatever schemas and roles this run left on the server (a file that crashed
  // before its own cleanup). Only this run's prefix, so a concurrent run is never touched.
  return async () => {
    const url = process.env.DATABASE_URL;
    if (url) await dropRunObjects(url, prefix);
  };
}
