// Longer than 300 lines for one reason: each operation's SQL (lock order, caps, expiry) stands beside
// the one bounded-transaction helper that runs it, so the rules that keep them safe together read
// in one place; only the option checks at the bottom are not about that.
import { AiError, type BudgetStore, type ReserveRequest, type ReserveResult } from '@korean-together/core';
import { quoteIdentifier } from './identifier.js';

/** The part of a node-postgres PoolClient the budget store uses. */
export interface PgBudgetClientLike {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  release(destroy?: boolean | Error): void;
}

/** The part of a node-postgres Pool the budget store uses: it checks out one connection per operation. */
export interface PgBudgetPoolLike {
  connect(): Promise<PgBudgetClientLike>;
}

export interface PostgresBudgetStoreOptions {
  /** A node-postgres Pool the host owns (never ended by the store). */
  pool: PgBudgetPoolLike;
  /** Schema holding `ai_budget_totals` and `ai_budget_reservations` (installed by `@korean-together/sql` migrate). Default `public`. */
  schema?: string;
  /**
   * Longest wait for one operation (a pooled connection, row locks, the statements), ms; then
   * it fails and the call is refused with `unavailable`. Default 5000.
   */
  operationTimeoutMs?: number;
  /** How long an expired, never-settled reservation stays findable so a late settle still counts its spend, ms. Default 3,600,000 (1 hour). */
  keepExpiredMs?: number;
  /** At most this often (ms) a reserve also deletes long-expired rows of every key, in the background. Default 60,000. */
  sweepIntervalMs?: number;
  /**
   * Wait for each budget transaction's commit to reach disk (Postgres' synchronous_commit).
   * `false` stops waiting for the WAL flush, which shortens how long the hot row (today's key)
   * stays locked where disk flushes are slow; a database crash may then lose the last fraction
   * of a second of budget changes (the usage log keeps the spend itself). Default true.
   */
  synchronousCommit?: boolean;
}

/**
 * A BudgetStore on Postgres, for apps that share budgets across processes without Redis.
 * Each operation is one short transaction: the totals rows of the request's keys are locked in
 * key order (so concurrent reservations never deadlock), then the caps are checked against
 * spent + live reservations (read after the locks, so nothing committed meanwhile is missed),
 * and the reservation is written, or nothing is. Times are the database server's clock.
 */
export class PostgresBudgetStore implements BudgetStore {
  private readonly totals: string;
  private readonly reservations: string;
  private readonly where: string;
  private readonly timeoutMs: number;
  private readonly keepMs: number;
  private readonly sweepMs: number;
  private readonly asyncCommit: string;
  private lastSweep = 0;

  constructor(private readonly options: PostgresBudgetStoreOptions) {
    if (!options || typeof options.pool?.connect !== 'function') {
      throw new AiError('invalid_config', 'createPostgresBudgetStore: pool: must be a node-postgres Pool', { retryable: false });
    }
    const schema = options.schema ?? 'public';
    const q = quoteIdentifier(schema, 'schema');
    this.totals = `${q}.ai_budget_totals`;
    this.reservations = `${q}.ai_budget_reservations`;
    this.where = `Postgres budget store (schema ${q})`;
    this.timeoutMs = positiveInt(options.operationTimeoutMs, 5_000, 'operationTimeoutMs');
    this.keepMs = positiveInt(options.keepExpiredMs, 3_600_000, 'keepExpiredMs');
    this.sweepMs = positiveInt(options.sweepIntervalMs, 60_000, 'sweepIntervalMs');
    this.asyncCommit = options.synchronousCommit === false ? '; SET LOCAL synchronous_commit = off' : '';
  }

  /**
   * Runs `fn` in one transaction on a pooled connection, bounded by operationTimeoutMs; failures
   * become `unavailable`. An operation reported as timed out never commits afterwards: its
   * connection is destroyed (the server then rolls the transaction back), a connection that
   * arrives after the deadline is handed back unused, and COMMIT is only sent before it.
   */
  private async transaction<T>(op: string, fn: (c: PgBudgetClientLike) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    let timedOut = false;
    let committing = false;
    let client: PgBudgetClientLike | undefined;
    let released = false;
    const release = (destroy: boolean) => {
      if (released || !client) return;
      released = true;
      client.release(destroy);
    };
    const expired = () => new AiError('unavailable', `${this.where}: ${op} timed out after ${this.timeoutMs} ms`, { retryable: true });
    const work = (async () => {
      const c = await this.options.pool.connect();
      client = c;
      if (timedOut) {
        release(false);
        throw expired();
      }
      try {
        // Locks and statements may only use the time left, so the server gives up before we do.
        const left = Math.max(1, deadline - Date.now());
        // One round trip: the lock wait is bounded too, so a stuck holder cannot hang callers.
        await c.query(`BEGIN; SET LOCAL lock_timeout = ${left}; SET LOCAL statement_timeout = ${left}${this.asyncCommit}`);
        const result = await fn(c);
        if (timedOut) throw expired();
        committing = true;
        await c.query('COMMIT');
        release(false);
        return result;
      } catch (e) {
        if (timedOut || released) {
          release(true);
          throw e;
        }
        try {
          await c.query('ROLLBACK');
          release(false);
        } catch {
          release(true);
        }
        throw e;
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        work,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            // A COMMIT already sent decides by itself; it is not waited for past another timeout.
            if (committing) {
              timer = setTimeout(() => {
                timedOut = true;
                release(true);
                reject(expired());
              }, this.timeoutMs);
              timer.unref();
              return;
            }
            timedOut = true;
            // Closing the connection makes the server roll back: nothing of this call can commit now.
            release(true);
            reject(expired());
          }, this.timeoutMs);
          timer.unref();
        }),
      ]);
    } catch (e) {
      work.catch(() => {});
      if (e instanceof AiError) throw e;
      const code = (e as { code?: unknown }).code;
      const text = e instanceof Error ? e.message.slice(0, 200) : 'error';
      throw new AiError('unavailable', `${this.where}: ${op} failed: ${typeof code === 'string' ? `${code} ` : ''}${text}`, { retryable: true, cause: e });
    } finally {
      clearTimeout(timer);
    }
  }

  async reserve(req: ReserveRequest): Promise<ReserveResult> {
    const amount = micro(req.amountMicro, 'amountMicro', Math.ceil);
    const ttlMs = Math.max(1, micro(req.reservationTtlMs, 'reservationTtlMs', Math.ceil));
    if (req.limits.length === 0) return { ok: true };
    const seen = new Set<string>();
    const limits = req.limits.filter((l) => !seen.has(l.key) && seen.add(l.key));
    const keys = limits.map((l) => l.key);
    const caps = limits.map((l) => String(micro(l.capMicro, 'capMicro', Math.floor)));
    const keyTtls = limits.map((l) => String(Math.max(1, micro(l.ttlMs, 'ttlMs', Math.ceil))));
    const result = await this.transaction('reserve', async (c) => {
      // Lock every key's totals row in key order (creating missing rows); an expired row starts again from zero.
      await c.query(
        `INSERT INTO ${this.totals} AS t (key, spent_micro, expires_at, updated_at)
         SELECT k, 0, statement_timestamp() + ttl * interval '1 millisecond', statement_timestamp()
           FROM unnest($1::text[], $2::bigint[]) AS u(k, ttl) ORDER BY k COLLATE "C"
         ON CONFLICT (key) DO UPDATE SET
           spent_micro = CASE WHEN t.expires_at <= statement_timestamp() THEN 0 ELSE t.spent_micro END,
           expires_at = CASE WHEN t.expires_at <= statement_timestamp() THEN EXCLUDED.expires_at ELSE t.expires_at END`,
        [keys, keyTtls],
      );
      // A new statement, so a new snapshot: it sees every reservation committed before our locks were granted.
      const { rows } = await c.query(
        `WITH lim AS (
           SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS u(key, cap_micro, ttl_ms, ord)
         ), already AS (
           SELECT 1 FROM ${this.reservations} WHERE id = $4::text AND key = ANY($1::text[]) AND expires_at > statement_timestamp() LIMIT 1
         ), used AS (
           SELECT lim.key, lim.cap_micro, lim.ord,
                  t.spent_micro + COALESCE((SELECT SUM(r.amount_micro) FROM ${this.reservations} r
                                             WHERE r.key = lim.key AND r.expires_at > statement_timestamp()), 0) AS used_micro
             FROM lim JOIN ${this.totals} t ON t.key = lim.key
         ), refused AS (
           SELECT key, cap_micro, used_micro FROM used
            WHERE used_micro + $5::bigint > cap_micro AND NOT EXISTS (SELECT 1 FROM already)
            ORDER BY ord LIMIT 1
         ), pruned AS (
           DELETE FROM ${this.reservations}
            WHERE key = ANY($1::text[]) AND expires_at < statement_timestamp() - $7::bigint * interval '1 millisecond'
         ), held AS (
           INSERT INTO ${this.reservations} (id, key, amount_micro, key_ttl_ms, expires_at)
           SELECT $4::text, key, $5::bigint, ttl_ms, statement_timestamp() + $6::bigint * interval '1 millisecond' FROM lim
            WHERE NOT EXISTS (SELECT 1 FROM refused) AND NOT EXISTS (SELECT 1 FROM already)
           ON CONFLICT (id, key) DO NOTHING
         )
         SELECT key, used_micro::text AS used_micro FROM refused`,
        [keys, caps, keyTtls, req.id, String(amount), String(ttlMs), String(this.keepMs)],
      );
      return rows[0] as { key: string; used_micro: string } | undefined;
    });
    this.maybeSweep();
    if (!result) return { ok: true };
    const limit = limits.find((l) => l.key === result.key)!;
    return { ok: false, key: limit.key, capMicro: limit.capMicro, usedMicro: Number(result.used_micro) };
  }

  async settle(id: string, actualMicro: number): Promise<void> {
    const actual = micro(actualMicro, 'actualMicro', Math.round);
    await this.transaction('settle', async (c) => {
      // Same lock order as reserve (key order), then move the reservation into spent.
      const locked = await c.query(
        `SELECT t.key FROM ${this.totals} t
          WHERE t.key IN (SELECT key FROM ${this.reservations} WHERE id = $1)
          ORDER BY t.key COLLATE "C" FOR UPDATE`,
        [id],
      );
      if (locked.rows.length === 0) {
        // Totals already gone (or never there): just drop the reservation rows.
        await c.query(`DELETE FROM ${this.reservations} WHERE id = $1`, [id]);
        return;
      }
      await c.query(
        `WITH r AS (DELETE FROM ${this.reservations} WHERE id = $1 RETURNING key, key_ttl_ms)
         UPDATE ${this.totals} t
            SET spent_micro = t.spent_micro + $2,
                expires_at = GREATEST(t.expires_at, statement_timestamp() + r.key_ttl_ms * interval '1 millisecond'),
                updated_at = statement_timestamp()
           FROM r WHERE t.key = r.key`,
        [id, String(actual)],
      );
    });
  }

  async release(id: string): Promise<void> {
    await this.settle(id, 0);
  }

  async usage(key: string): Promise<{ spentMicro: number; reservedMicro: number }> {
    const row = await this.transaction('usage', async (c) => {
      const { rows } = await c.query(
        `SELECT COALESCE((SELECT spent_micro FROM ${this.totals} WHERE key = $1 AND expires_at > statement_timestamp()), 0)::text AS spent,
                COALESCE((SELECT SUM(amount_micro) FROM ${this.reservations} WHERE key = $1 AND expires_at > statement_timestamp()), 0)::text AS reserved`,
        [key],
      );
      return rows[0] as { spent: string; reserved: string };
    });
    return { spentMicro: Number(row.spent), reservedMicro: Number(row.reserved) };
  }

  /**
   * Deletes reservations expired longer than keepExpiredMs and totals past their expiry with
   * no reservation left. Rows another transaction holds are skipped (SKIP LOCKED), so the
   * sweep never waits for, or deadlocks with, a call. Runs by itself from reserve, at most once
   * per sweepIntervalMs; call it yourself to sweep now.
   */
  async sweep(): Promise<{ reservations: number; totals: number }> {
    return this.transaction('sweep', async (c) => {
      const r = await c.query(
        `WITH gone AS (
           DELETE FROM ${this.reservations} WHERE ctid IN (
             SELECT ctid FROM ${this.reservations}
              WHERE expires_at < statement_timestamp() - $1 * interval '1 millisecond' FOR UPDATE SKIP LOCKED)
           RETURNING 1)
         SELECT count(*)::int AS n FROM gone`,
        [String(this.keepMs)],
      );
      const t = await c.query(
        `WITH gone AS (
           DELETE FROM ${this.totals} WHERE key IN (
             SELECT key FROM ${this.totals} t
              WHERE expires_at < statement_timestamp()
                AND NOT EXISTS (SELECT 1 FROM ${this.reservations} r WHERE r.key = t.key)
              FOR UPDATE SKIP LOCKED)
           RETURNING 1)
         SELECT count(*)::int AS n FROM gone`,
      );
      return { reservations: Number(r.rows[0]?.n ?? 0), totals: Number(t.rows[0]?.n ?? 0) };
    });
  }

  private maybeSweep(): void {
    const now = Date.now();
    if (now - this.lastSweep < this.sweepMs) return;
    this.lastSweep = now;
    // Housekeeping only: a failed sweep changes nothing and is tried again later.
    this.sweep().catch(() => {});
  }

  /** Nothing to release: the pool belongs to the host. */
  async close(): Promise<void> {}
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new AiError('invalid_config', `createPostgresBudgetStore: ${name}: must be a positive integer number of milliseconds`, { retryable: false });
  }
  return value;
}

/** A non-negative amount (micro-dollars or ms) as an integer, rounded the safe way for its use. */
function micro(value: number, name: string, round: (x: number) => number): number {
  const n = round(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new AiError('invalid_request', `Postgres budget store: ${name} must be a non-negative number below 2^53, got ${String(value)}`, { retryable: false });
  }
  return n;
}

/**
 * A BudgetStore on Postgres for `createAiClient({ budgetStore })`, so per-session and per-day
 * caps hold across every process using the same database and schema. Install its tables with
 * `migrate()` from `@korean-together/sql` first.
 *
 * ```ts
 * const budgetStore = createPostgresBudgetStore({ pool, schema: 'public' });
 * ```
 */
export function createPostgresBudgetStore(options: PostgresBudgetStoreOptions): PostgresBudgetStore {
  return new PostgresBudgetStore(options);
}
