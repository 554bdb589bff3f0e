import { STATUS_CODES } from 'node:http';
import type net from 'node:net';
import { requestError } from './http-errors.js';

/** The request line and headers together, URL included: Node's default, set here so a runtime flag cannot change it. */
export const MAX_HEADER_BYTES = 16 * 1024;

/**
 * Errors Node's HTTP parser raises before a request exists (headers over MAX_HEADER_BYTES, a
 * malformed request line): answered with the server's JSON error shape instead of Node's or
 * Fastify's own body, then the connection closes.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: net.Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const e =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? requestError(431, 'invalid_request', `request line and headers over ${MAX_HEADER_BYTES} bytes (the URL counts)`)
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? requestError(408, 'invalid_request', 'the request was not received in time')
        : requestError(400, 'invalid_request', 'malformed HTTP request');
  const body = JSON.stringify(e.body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  // end() rather than destroy(): the answer is flushed before the FIN, and what the client is
  // still sending (the rest of a long URL) is read and dropped instead of drawing a reset.
  socket.end();
  socket.on('data', () => {});
  setTimeout(() => socket.destroy(), 1_000).unref();
}
