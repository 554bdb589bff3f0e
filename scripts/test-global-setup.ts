import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { dropRunObjects, testRunPrefix } from '../test-support/db.js';

/** Where to look for a Redis when REDIS_URL is unset. */
const DEFAULT_REDIS_PROBE = '127.0.0.1:6379';
/** How long the probe waits for a connection and a PONG, ms. */
const PROBE_TIMEOUT_MS = 500;

// Runs once per `vitest run`, in the main process, before any test file. Environment variables
// set here reach every test worker (and the child processes tests spawn).
//
// Servers:
// - Postgres: DATABASE_URL set means the tests use that server; unset means embedded PGlite
//   (test-support/db.ts). Never probed: without DATABASE_URL the rule is PGlite.
// - Redis: REDIS_URL set means the Redis tests use that server and fail loudly if it is down.
//   Unset: probe KT_TEST_REDIS_PROBE (host:port, default 127.0.0.1:6379) with a PING; if it
//   answers, REDIS_URL is set to it for this run, otherwise the Redis tests are NOT RUN and say
//   so. KT_TEST_REDIS_PROBE exists only to point the probe elsewhere (e.g. at a closed port, to
//   see the suite without Redis on a machine that has one).
export default async function setup(): Promise<() => Promise<void>> {
  // One id per `vitest run`: tests that touch a database create their schemas under it
  // (see test-support/db.ts), so concurrent runs never see each other's rows.
  process.env.KT_TEST_RUN_ID ??= `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const prefix = testRunPrefix();

  if (!process.env.REDIS_URL) {
    const target = process.env.KT_TEST_REDIS_PROBE || DEFAULT_REDIS_PROBE;
    const { host, port } = parseHostPort(target);
    if (await answersPing(host, port, PROBE_TIMEOUT_MS)) {
      process.env.REDIS_URL = `redis://${host.includes(':') ? `[${host}]` : host}:${port}`;
      console.warn(`Redis tests use the Redis answering on ${target} (REDIS_URL unset)`);
    } else {
      console.warn(`Redis tests NOT RUN: REDIS_URL unset and nothing answers on ${target}`);
    }
  }

  if (!process.env.DATABASE_URL) {
    // Never probed: without DATABASE_URL the rule is PGlite. Only tests that need a server
    // process (killed connections, roles, several processes, the CLI) cannot run on it.
    console.warn('Postgres-server tests (faults, least-privilege role, CLI, multi-process) NOT RUN: DATABASE_URL unset; database tests use embedded PGlite');
  }

  // Teardown: drop whatever schemas and roles this run left on the server (a file that crashed
  // before its own cleanup). Only this run's prefix, so a concurrent run is never touched.
  return async () => {
    const url = process.env.DATABASE_URL;
    if (url) await dropRunObjects(url, prefix);
  };
}

function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port > 0 && port < 65_536)) {
    throw new Error(`scripts/test-global-setup.ts: KT_TEST_REDIS_PROBE must be host:port (e.g. 127.0.0.1:6379), got '${value}'`);
  }
  return { host: (m[1] ?? m[2])!, port };
}

/** True when a Redis on host:port replies +PONG to PING within timeoutMs (one that wants a password does not count). */
function answersPing(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG\r\n'));
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}
