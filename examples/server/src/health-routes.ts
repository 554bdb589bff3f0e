import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AiClient } from '@korean-together/core';
import type { Database } from './database.js';

/** The probes: /health (the process answers) and /ready (it can serve: database, breakers, not draining). */
export function registerHealthRoutes(app: FastifyInstance, deps: { client: AiClient; db: Database; isShuttingDown: () => boolean }): void {
  const { client, db, isShuttingDown } = deps;
  const startedAt = Date.now();
  app.get('/health', async () => ({ status: 'ok', uptimeMs: Date.now() - startedAt }));

  app.get('/ready', async (_request: FastifyRequest, reply: FastifyReply) => {
    let database: { kind: string; reachable: boolean; error?: string };
    try {
      await db.ping();
      database = { kind: db.kind, reachable: true };
    } catch (e) {
      database = { kind: db.kind, reachable: false, error: (e as { code?: string }).code ?? 'unreachable' };
    }
    const sink = db.sink.stats();
    const breakers = client.breakerStates();
    // A capability whose every provider is open cannot answer at all.
    const capabilitiesDown = (['stt', 'tts', 'eval'] as const).filter((cap) => {
      const states = Object.entries(breakers).filter(([k]) => k.startsWith(`${cap}:`));
      return states.length > 0 && states.every(([, s]) => s === 'open');
    });
    const shuttingDown = isShuttingDown();
    const ready = !shuttingDown && database.reachable && capabilitiesDown.length === 0;
    reply.code(ready ? 200 : 503);
    return {
      ready,
      shuttingDown,
      database,
      usageSink: {
        databaseUp: sink.databaseUp,
        backlog: sink.pending,
        written: sink.written,
        spilled: sink.spilled,
        spillSegments: sink.spillSegments,
        replayed: sink.replayed,
        failed: sink.failed,
        dropped: sink.dropped,
      },
      breakers,
      capabilitiesDown,
      inFlight: client.inFlight(),
    };
  });
}
