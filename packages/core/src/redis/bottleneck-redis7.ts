import type { Redis } from 'ioredis';

/**
 * Bottleneck 2.19.5 recovers from a lost limiter (its keys gone after a Redis restart, flush
 * or eviction) and from a forgotten client (no heartbeat for clientTimeout, e.g. after an
 * outage) by comparing the script error's message with 'SETTINGS_KEY_NOT_FOUND' and
 * 'UNKNOWN_CLIENT'. Redis 7 prefixes errors raised with redis.error_reply by 'ERR ', so the
 * comparison never matches and the limiter stays broken: every later job fails
 * (SGrondin/bottleneck#205, #212; checked against Redis 7.0 here). These are the messages
 * bottleneck's scripts raise and compares verbatim.
 */
const BOTTLENECK_REPLIES = /^ERR ((?:SETTINGS_KEY_NOT_FOUND|UNKNOWN_CLIENT)$|OVERWEIGHT:)/;

/** Strips Redis 7's 'ERR ' prefix from the errors bottleneck's scripts raise on purpose. */
export function normalizeBottleneckError(e: unknown): unknown {
  if (e instanceof Error && BOTTLENECK_REPLIES.test(e.message)) e.message = e.message.slice(4);
  return e;
}

type ScriptFn = (...args: unknown[]) => Promise<unknown>;

/**
 * Makes a client (one this package owns: bottleneck's command connection) answer bottleneck's
 * scripts with the error messages bottleneck expects, on Redis 7 as on Redis 6. Wraps each
 * command bottleneck defines with `defineCommand`; other commands are untouched. Bottleneck
 * passes a node-style callback as the last argument; it is called once with the normalised
 * error, and the returned promise then never rejects (nobody else awaits it).
 */
export function patchForBottleneck(client: Redis): Redis {
  const define = client.defineCommand.bind(client);
  client.defineCommand = (name: string, definition: { lua: string; numberOfKeys?: number; readOnly?: boolean }) => {
    define(name, definition);
    const target = client as unknown as Record<string, ScriptFn>;
    const original = target[name]!;
    target[name] = (...args: unknown[]) => {
      const cb = typeof args[args.length - 1] === 'function' ? (args.pop() as (err: unknown, res?: unknown) => void) : undefined;
      const p = original.apply(client, args).catch((e: unknown) => {
        throw normalizeBottleneckError(e);
      });
      if (!cb) return p;
      return p.then(
        (res) => cb(null, res),
        (err: unknown) => cb(err),
      );
    };
  };
  return client;
}
