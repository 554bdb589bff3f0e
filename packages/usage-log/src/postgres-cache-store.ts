import { AiError, type CacheStore } from '@korean-together/core';
import { quoteIdentifier } from './identifier.js';

const ignore = (): void => {};

/** The part of a node-postgres PoolClient the cache store uses. */
export interface PgCacheClientLike {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  release(destroy?: boolean | Error): void;
}

/** The part of a node-postgres Pool the cache store uses: one pooled connection per operation. */
export interface PgCachePoolLike {
  connect(): Promise<PgCacheClientLike>;
}

export interface PostgresCacheStoreOptions {
  /** A node-postgres Pool the host owns (never ended by the store). */
  pool: PgCachePoolLike;
  /** Schema holding the table (installed by `@korean-together/sql` migrate, migration 000005). Default `public`. */
  schema?: string;
  /** Table name. Default `ai_response_cache`. */
  table?: string;
  /**
   * Most bytes (values plus keys) kept; past it every set deletes the least recently used rows.
   * Each read then also stamps the row's last use (one UPDATE instead of a SELECT), and each set
   * sums the table's sizes: meant for caches of up to some hundred thousand rows. Absent: rows
   * leave only when they expire. Default absent.
   */
  maxBytes?: number;
  /** At most this often (ms) a set also deletes expired rows. Default 60,000. */
  pruneIntervalMs?: number;
}

/**
 * A CacheStore on Postgres (bytea values), for apps that share one cache across processes
 * without Redis. Times are the database server's clock; an expired row is never returned and is
 * deleted by the next prune.
 */
export class PostgresCacheStore implements CacheStore {
  readonly maxBytes: number | undefined;
  private readonly table: string;
  private readonly pruneMs: number;
  private lastPrune = 0;
  private readonly sql: { get: string; set: string; del: string; prune: string; evict: string };

  constructor(private readonly options: PostgresCacheStoreOptions) {
    if (!options || typeof options.pool?.connect !== 'function') {
      throw new AiError('invalid_config', 'createPostgresCacheStore: pool: must be a node-postgres Pool', { retryable: false });
    }
    this.table = `${quoteIdentifier(options.schema ?? 'public', 'createPostgresCacheStore: schema')}.${quoteIdentifier(options.table ?? 'ai_response_cache', 'createPostgresCacheStore: table')}`;
    if (options.maxBytes !== undefined && (!Number.isSafeInteger(options.maxBytes) || options.maxBytes <= 0)) {
      throw new AiError('invalid_config', 'createPostgresCacheStore: maxBytes: must be a positive integer number of bytes', { retryable: false });
    }
    const prune = options.pruneIntervalMs ?? 60_000;
    if (!Number.isInteger(prune) || prune <= 0) {
      throw new AiError('invalid_config', 'createPostgresCacheStore: pruneIntervalMs: must be a positive integer number of milliseconds', { retryable: false });
    }
    this.pruneMs = prune;
    this.maxBytes = options.maxBytes;
    const t = this.table;
    this.sql = {
      get:
        this.maxBytes === undefined
          ? `SELECT value FROM ${t} WHERE key = $1 AND expires_at > now()`
          : `UPDATE ${t} SET accessed_at = clock_timestamp() WHERE key = $1 AND expires_at > now() RETURNING value`,
      set:
        `INSERT INTO ${t} (key, value, size_bytes, expires_at, accessed_at) VALUES ($1, $2, octet_length($2::bytea) + octet_length($1::text), now() + $3 * interval '1 millisecond', clock_timestamp()) ` +
        `ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, size_bytes = EXCLUDED.size_bytes, expires_at = EXCLUDED.expires_at, accessed_at = EXCLUDED.accessed_at, created_at = now()`,
      del: `DELETE FROM ${t} WHERE key = $1`,
      prune: `DELETE FROM ${t} WHERE expires_at <= now()`,
      // Newest first, a running total of sizes: every row past the bound goes (expired rows count nothing); a row larger than the whole bound is never kept.
      evict:
        `DELETE FROM ${t} WHERE key IN (SELECT key FROM (SELECT key, sum(size_bytes) OVER (ORDER BY accessed_at DESC, key DESC) AS running FROM ${t} WHERE expires_at > now() AND size_bytes <= $1) ranked WHERE running > $1) ` +
        `OR (key = $2 AND size_bytes > $1)`,
    };
  }

  async get(key: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    const { rows } = await this.run((c) => c.query(this.sql.get, [key]), signal);
    const v = rows[0]?.value as Uint8Array | undefined;
    return v === undefined ? undefined : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }

  async set(key: string, value: Uint8Array, ttlMs: number, signal?: AbortSignal): Promise<void> {
    const now = Date.now();
    const prune = now - this.lastPrune >= this.pruneMs;
    if (prune) this.lastPrune = now;
    await this.run(async (c) => {
      await c.query(this.sql.set, [key, Buffer.from(value.buffer, value.byteOffset, value.byteLength), Math.max(1, Math.round(ttlMs))]);
      if (this.maxBytes !== undefined) await c.query(this.sql.evict, [this.maxBytes, key]);
      if (prune) await c.query(this.sql.prune);
      return { rows: [] };
    }, signal);
  }

  async delete(key: string, signal?: AbortSignal): Promise<void> {
    await this.run((c) => c.query(this.sql.del, [key]), signal);
  }

  /** Deletes every expired row now (a set does it at most every `pruneIntervalMs`). Resolves with how many went. */
  async prune(): Promise<number> {
    const { rows } = await this.run((c) => c.query(`WITH gone AS (${this.sql.prune} RETURNING 1) SELECT count(*)::int AS n FROM gone`));
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * One pooled connection for `op`. The caller's signal (the client's store timeout) ends the
   * wait: no work starts once it has fired, a connection that arrives after it goes straight
   * back to the pool, and a query still running is cut by destroying its connection, so calls
   * in an outage do not pile up queries behind a stalled server.
   */
  private async run(op: (c: PgCacheClientLike) => Promise<{ rows: Record<string, unknown>[] }>, signal?: AbortSignal): Promise<{ rows: Record<string, unknown>[] }> {
    if (signal?.aborted) throw aborted();
    const connecting = this.options.pool.connect();
    const c = signal ? await untilAborted(connecting, signal, (late) => late.release()) : await connecting;
    if (signal?.aborted) {
      c.release();
      throw aborted();
    }
    // A connection that dies while checked out emits 'error' besides failing its query: the query's
    // rejection reports it, the event must not go unhandled.
    const events = c as { on?(e: 'error', l: () => void): unknown; off?(e: 'error', l: () => void): unknown };
    events.on?.('error', ignore);
    let released = false;
    const release = (broken?: Error): void => {
      if (released) return;
      released = true;
      events.off?.('error', ignore);
      c.release(broken);
    };
    const running = op(c);
    try {
      return signal ? await untilAborted(running, signal, () => {}, () => release(aborted())) : await running;
    } catch (e) {
      release(e instanceof Error ? e : new Error(String(e)));
      throw e;
    } finally {
      // The op may still reject after an abort destroyed its connection: that is expected.
      running.catch(ignore);
      release();
    }
  }
}

function aborted(): AiError {
  return new AiError('cancelled', 'PostgresCacheStore: the operation was aborted (the store timeout passed)', { retryable: true });
}

/**
 * `work`, or a rejection as soon as `signal` fires. `onAbort` runs at that moment; a value
 * `work` still yields afterwards goes to `late`.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal, late: (value: T) => void, onAbort: () => void = () => {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const abort = (): void => {
      if (done) return;
      done = true;
      onAbort();
      reject(aborted());
    };
    signal.addEventListener('abort', abort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', abort);
        if (done) return late(v);
        done = true;
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', abort);
        if (done) return;
        done = true;
        reject(e);
      },
    );
    if (signal.aborted) abort();
  });
}

/** A PostgresCacheStore (see PostgresCacheStoreOptions). */
export function createPostgresCacheStore(options: PostgresCacheStoreOptions): PostgresCacheStore {
  return new PostgresCacheStore(options);
}
