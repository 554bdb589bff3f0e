import { randomBytes } from 'node:crypto';

// One id per `vitest run`: tests that touch a database create their schemas under it
// (see test-support/db.ts), so concurrent runs never see each other's rows.
export default function setup(): void {
  process.env.KT_TEST_RUN_ID ??= `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}
