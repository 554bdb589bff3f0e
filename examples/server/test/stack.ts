import { startEmulators, type Emulators } from '@korean-together/providers/emulators';
import type { AiPolicy } from '@korean-together/core';
import { testDatabase, type TestDatabase } from '../../../test-support/db.js';
import { createTutoringServer, type TutoringServer, type TutoringServerOptions } from '../src/app.js';
import type { DatabaseTimeouts } from '../src/config.js';

/** A key the tests hand to the emulators, to prove it never reaches an answer. */
export const TEST_API_KEY = 'sk-test-7f3c9d1e2b4a5c6d';

/** Emulators + a fresh database (Postgres when DATABASE_URL is set, else PGlite) + the server, listening on a free port. */
export interface Stack {
  emu: Emulators;
  db: TestDatabase;
  server: TutoringServer;
  baseUrl: string;
  post(path: string, body: unknown): Promise<{ status: number; json: any; headers: Headers }>;
  get(path: string): Promise<{ status: number; json: any }>;
  /** Rows of a table in the test schema. */
  rows<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export interface StackOptions {
  label: string;
  policy?: AiPolicy;
  shutdownDeadlineMs?: number;
  /**
   * Postgres only: the server opens its own pool (and the sink its own) on this URL instead of
   * using the test's pool, e.g. `(db) => proxy.urlFor(db.connectionString!)` through a TcpProxy.
   */
  databaseUrl?: (db: TestDatabase) => string;
  databaseTimeouts?: Partial<DatabaseTimeouts>;
  /** The live turn's limits and per-turn hook. */
  live?: TutoringServerOptions['live'];
  /** OpenTelemetry for the server (startTelemetry()). */
  telemetry?: TutoringServerOptions['telemetry'];
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const emu = await startEmulators();
  const db = await testDatabase({ label: options.label });
  const server = await createTutoringServer({
    database: options.databaseUrl ? { databaseUrl: options.databaseUrl(db), schema: db.schema } : { client: db.client, schema: db.schema },
    ...(options.databaseTimeouts && { databaseTimeouts: options.databaseTimeouts }),
    backend: { kind: 'emulators', endpoints: emu, apiKey: TEST_API_KEY },
    ...(options.policy && { policy: options.policy }),
    logger: false,
    ...(options.shutdownDeadlineMs !== undefined && { shutdownDeadlineMs: options.shutdownDeadlineMs }),
    ...(options.live && { live: options.live }),
    ...(options.telemetry && { telemetry: options.telemetry }),
  });
  const address = await server.app.listen({ port: 0, host: '127.0.0.1' });
  let closed = false;
  return {
    emu,
    db,
    server,
    baseUrl: address,
    async post(path, body) {
      const res = await fetch(`${address}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
      return { status: res.status, json: await res.json(), headers: res.headers };
    },
    async get(path) {
      const res = await fetch(`${address}${path}`);
      return { status: res.status, json: await res.json() };
    },
    rows(sql, params) {
      return db.query(sql.replaceAll('$schema', `"${db.schema}"`), params);
    },
    async close() {
      if (closed) return;
      closed = true;
      await server.shutdown();
      await emu.close();
      await db.close();
    },
  };
}
