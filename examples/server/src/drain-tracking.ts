import type net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { requestError } from './http-errors.js';
import { sendError } from './error-replies.js';

/** Routes that still answer while the server drains: the probes. */
const PROBES = new Set(['/health', '/ready']);

/**
 * What shutdown() needs to know about traffic: whether the stop has begun, the requests being
 * handled (answered or not yet), the open connections and when the last request arrived.
 */
export class DrainState {
  shuttingDown = false;
  openRequests = 0;
  lastRequestAt = 0;
  openConnections = 0;
  private onDrained: (() => void) | undefined;

  /** Resolves once no request is open; undefined when none is open now. */
  drained(): Promise<void> | undefined {
    return this.openRequests > 0 ? new Promise<void>((resolve) => (this.onDrained = resolve)) : undefined;
  }

  requestOpened(): void {
    this.openRequests++;
    this.lastRequestAt = Date.now();
  }

  requestClosed(): void {
    this.openRequests--;
    if (this.openRequests === 0) this.onDrained?.();
  }
}

/**
 * Counts connections and requests, so shutdown() knows when the drain is over, and answers a
 * request that arrives while shutting down with 503 `unavailable` (the probes excepted).
 */
export function trackRequests(app: FastifyInstance, drain: DrainState): void {
  app.server.on('connection', (socket: net.Socket) => {
    drain.openConnections++;
    socket.once('close', () => drain.openConnections--);
  });
  app.addHook('onRequest', async (request, reply) => {
    drain.requestOpened();
    reply.raw.once('close', () => drain.requestClosed());
    // A request on a connection that was open before the stop: answered, not reset, and told
    // to reconnect elsewhere. The probes still answer (/ready with 503 and shuttingDown).
    if (drain.shuttingDown && !PROBES.has(request.url.split('?')[0]!)) {
      reply.header('connection', 'close');
      return sendError(reply, requestError(503, 'unavailable', 'the server is shutting down; retry on another instance', true));
    }
  });
}

/**
 * While shutting down, answer in-flight requests with `Connection: close`, so keep-alive
 * sockets end with their last response and close() is not held up by idle clients.
 */
export function closeConnectionsWhileDraining(app: FastifyInstance, drain: DrainState): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    if (drain.shuttingDown) reply.header('connection', 'close');
    return payload;
  });
}
