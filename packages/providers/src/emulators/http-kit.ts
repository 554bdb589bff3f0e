// What the HTTP emulators share: listening on a free port, counting client aborts, applying
// the delay / hang faults, and closing promptly (open and hung sockets included).

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HitCounter } from './faults.js';
import type { EmulatorTarget, Fault } from './types.js';

/** One request as a handler sees it. */
export interface RequestScope {
  /** Aborts when the client goes away before the answer is sent, or when the emulators close. */
  signal: AbortSignal;
  /** Records the hit once the target and model names are known; a later client abort is counted against them. */
  hit(target: EmulatorTarget, names: readonly string[]): void;
}

export type HttpHandler = (req: http.IncomingMessage, res: http.ServerResponse, scope: RequestScope) => Promise<void>;

/** An HTTP server on 127.0.0.1 (by default) whose close() also ends in-flight and hung requests. */
export class HttpEmulator {
  private readonly server: http.Server;
  private readonly closeController = new AbortController();
  private closing = false;

  constructor(
    private readonly name: string,
    private readonly hits: HitCounter,
    handler: HttpHandler,
    /** Called when a handler throws before answering; writes a 500 in the target's error shape. */
    onError: (res: http.ServerResponse, err: unknown) => void,
  ) {
    this.server = http.createServer((req, res) => {
      const ctl = new AbortController();
      let counted: { target: EmulatorTarget; names: readonly string[] } | undefined;
      res.on('close', () => {
        if (res.writableFinished) return;
        ctl.abort();
        if (counted && !this.closing) this.hits.recordAborted(counted.target, counted.names);
      });
      const scope: RequestScope = {
        signal: AbortSignal.any([ctl.signal, this.closeController.signal]),
        hit: (target, names) => {
          counted = { target, names };
          this.hits.record(target, names);
        },
      };
      handler(req, res, scope).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) onError(res, err);
        else res.destroy();
      });
    });
    // Keep-alive sockets would otherwise hold close() open until they time out.
    this.server.keepAliveTimeout = 5_000;
  }

  /** Listens and resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(new Error(`emulators: ${this.name} could not listen on ${host}:${port}: ${err.message}`, { cause: err }));
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops listening and destroys every open socket, hung requests included. */
  close(): Promise<void> {
    this.closing = true;
    this.closeController.abort();
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** Thrown by readBody when the body is larger than allowed. */
export class BodyTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`request body exceeds ${limitBytes} bytes`);
  }
}

/**
 * Reads the whole request body, refusing more than `limitBytes`. An oversized body is still
 * read to its end (and dropped) so the client, still uploading, receives the 413 instead of
 * a reset connection.
 */
export async function readBody(req: http.IncomingMessage, limitBytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= limitBytes) parts.push(chunk as Buffer);
  }
  if (size > limitBytes) throw new BodyTooLargeError(limitBytes);
  return Buffer.concat(parts);
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Applies the faults that act before any answer: `hang` waits for the abort, `delay` waits
 * (unless aborted). Resolves false when the request is over and nothing more must be sent.
 */
export async function waitOutFault(fault: Fault | undefined, signal: AbortSignal): Promise<boolean> {
  if (fault?.kind === 'hang') {
    await sleep(2 ** 31 - 1, signal);
    return false;
  }
  if (fault?.kind === 'delay') return sleep(fault.ms, signal);
  return !signal.aborted;
}
