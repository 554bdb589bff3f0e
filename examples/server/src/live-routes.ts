// GET /v1/turns/live (the live turn, a WebSocket; protocol in live-protocol.ts) and GET /live
// (a page that runs a live turn from the browser's microphone). Registered in their own scope so
// the WebSocket plugin serves only them.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AiClient } from '@korean-together/core';
import type { Database } from './database.js';
import { LIVE_CLOSE, LIVE_LIMITS } from './live-protocol.js';
import { LiveTurn, type LiveTurnDeps } from './live-turn.js';

const LIVE_DIR = fileURLToPath(new URL('../live/', import.meta.url));

export interface LiveRoutesDeps {
  client: AiClient;
  db: Database;
  shutdownSignal: AbortSignal;
  limits?: LiveTurnDeps['limits'];
  speculateAtStability?: LiveTurnDeps['speculateAtStability'];
  /** Called with every turn as it starts (tests and benches wait on `turn.finished`). */
  onTurn?: (turn: LiveTurn) => void;
}

export function registerLiveRoutes(app: FastifyInstance, deps: LiveRoutesDeps): void {
  const files: Record<string, { body: Buffer; type: string }> = {
    'index.html': { body: readFileSync(join(LIVE_DIR, 'index.html')), type: 'text/html; charset=utf-8' },
    'live.js': { body: readFileSync(join(LIVE_DIR, 'live.js')), type: 'text/javascript; charset=utf-8' },
    'pcm-worklet.js': { body: readFileSync(join(LIVE_DIR, 'pcm-worklet.js')), type: 'text/javascript; charset=utf-8' },
  };
  const send = (name: string) => async (_req: unknown, reply: FastifyReply) => {
    const f = files[name]!;
    return reply.header('content-type', f.type).header('cache-control', 'no-cache').send(f.body);
  };
  app.get('/live', send('index.html'));
  app.get('/live/live.js', send('live.js'));
  app.get('/live/pcm-worklet.js', send('pcm-worklet.js'));

  void app.register(async (scope) => {
    await scope.register(websocket, {
      options: { maxPayload: LIVE_LIMITS.maxFrameBytes },
      // app.close() after the drain: any turn still open is told the server is going away.
      preClose(done) {
        for (const client of scope.websocketServer.clients) client.close(LIVE_CLOSE.goingAway, 'unavailable');
        done();
      },
    });
    scope.get('/v1/turns/live', { websocket: true }, (socket) => {
      const turn = new LiveTurn(socket, { client: deps.client, db: { queryable: deps.db.queryable, schema: deps.db.schema }, shutdownSignal: deps.shutdownSignal, ...(deps.limits && { limits: deps.limits }), ...(deps.speculateAtStability !== undefined && { speculateAtStability: deps.speculateAtStability }) });
      deps.onTurn?.(turn);
    });
  });
}
