import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import pTimeout from 'p-timeout';
import type { AiClient } from '@korean-together/core';
import type { Database } from './database.js';
import type { DrainState } from './drain-tracking.js';
import type { ProviderSet } from './providers.js';
import { IDLE_LINGER_MS, type ShutdownBudget } from './shutdown-budget.js';

export interface ShutdownDeps {
  app: FastifyInstance;
  client: AiClient;
  providerSet: ProviderSet;
  db: Database;
  drain: DrainState;
  /** Aborted when the deadline passes: every AI call's signal follows it. */
  shutdownAbort: AbortController;
  budget: ShutdownBudget;
  deadlineMs: number;
  timeoutMs: number;
}

/**
 * The shutdown sequence (see TutoringServer.shutdown): registers the onClose hook that closes the
 * client, the providers and the database, and returns shutdown(), which runs once however often
 * it is called.
 */
export function createShutdown(deps: ShutdownDeps): () => Promise<{ forced: boolean }> {
  const { app, client, providerSet, db, drain, shutdownAbort, budget, deadlineMs, timeoutMs } = deps;
  const log = app.log;

  // What shutdown() is waiting for, named in the log when the timeout cuts it short.
  let closingStep = 'draining in-flight requests';
  // Runs once the open connections have closed. shutdown() has closed the client by then (a
  // second close() returns the first); app.close() called on its own needs it here.
  app.addHook('onClose', async () => {
    closingStep = 'closing the AI client (flushing the usage sink)';
    await client.close();
    closingStep = 'closing the providers';
    await providerSet.close();
    closingStep = 'closing the database';
    await db.close();
  });

  let stopping: Promise<{ forced: boolean }> | undefined;
  return () => {
    stopping ??= (async () => {
      drain.shuttingDown = true;
      let forced = false;
      // Stop accepting, but keep the open connections: net.Server's close, not http.Server's,
      // which would also close idle keep-alive sockets under a client about to reuse them (a
      // reset). Requests on them get the 503 of trackRequests(); idle ones are closed once the drain is over.
      if (app.server.listening) net.Server.prototype.close.call(app.server);
      const startedAt = Date.now();
      // The AI client's close starts by then at the latest, whatever requests are still doing:
      // its time (and the sink's, within it) is what shutdownBudget() left it.
      const closeClientAt = startedAt + budget.closeClientAfterMs;
      const drained = drain.drained();
      const closed = (async () => {
        if (drained) {
          await pTimeout(drained, {
            milliseconds: Math.max(1, deadlineMs),
            fallback: () => {
              forced = true;
              log.warn(`shutdown: in-flight requests still running after ${deadlineMs} ms; aborting their AI calls`);
              shutdownAbort.abort();
            },
          });
          // Aborted calls answer at once; a request waiting on a database that stopped answering
          // (up to DB_QUERY_TIMEOUT_MS) must not eat the usage sink's time.
          await pTimeout(drained, {
            milliseconds: Math.max(1, closeClientAt - Date.now()),
            fallback: () => log.warn(`shutdown: ${drain.openRequests} request(s) still running after ${budget.closeClientAfterMs} ms; closing the AI client and the usage sink anyway`),
          });
        }
        closingStep = 'waiting for idle keep-alive connections to go quiet';
        for (let quiet = Date.now() - drain.lastRequestAt; drain.openConnections > 0 && quiet < IDLE_LINGER_MS && Date.now() < closeClientAt; quiet = Date.now() - drain.lastRequestAt) {
          await sleep(Math.min(IDLE_LINGER_MS - quiet, closeClientAt - Date.now()));
        }
        app.server.closeIdleConnections();
        closingStep = 'closing the AI client (flushing the usage sink)';
        await client.close();
        closingStep = 'waiting for open connections to close';
        // The listener's close, then the onClose hook: providers, database.
        await app.close();
        return 'closed' as const;
      })();
      // Once the timeout has won, a late failure of the closing must not surface as an unhandled rejection.
      closed.catch(() => {});
      if ((await pTimeout(closed, { milliseconds: timeoutMs, fallback: () => 'timeout' as const })) === 'timeout') {
        forced = true;
        log.error(`shutdown: still ${closingStep} after ${timeoutMs} ms; giving up`);
        app.server.closeAllConnections();
      }
      return { forced };
    })();
    return stopping;
  };
}
