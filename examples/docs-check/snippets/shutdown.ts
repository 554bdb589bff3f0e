// Graceful shutdown for a node:http server (Express, Fastify and Hono sit on one).
import type { Server } from 'node:http';
import type { Ai } from './ai.js';

export function stopGracefully(server: Server, ai: Ai, deadlineMs = 8_000): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(130); // a second signal: give up waiting
    stopping = true;
    console.log(`${signal}: finishing in-flight requests`);
    const force = setTimeout(() => process.exit(1), deadlineMs).unref();
    server.close(async () => {
      // No request is running any more: drain the client, flush the usage rows, close the pools.
      await ai.close();
      clearTimeout(force);
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
