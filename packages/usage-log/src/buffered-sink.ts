import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pRetry, { AbortError } from 'p-retry';
import pTimeout from 'p-timeout';
import { AiError, safeProviderText, type UsageRecord, type UsageSink } from '@korean-together/core';
import { classifyFailure } from './statement-failure.js';
import { SpillStore, type ForeignSpill, type Segment } from './spill.js';
import { UsageLogError } from './usage-log-error.js';
import { describeRejected, normalizeUsage, type UsageRow } from './usage-row.js';

/** Where rows end up: a database table reached through one idempotent batch insert. */
export interface InsertTarget {
  /**
   * Identity of the destination as configured (address + database + table, hashed, never a
   * password). Written to spill owner files; matches spill directories of writers that never
   * learnt what the database says it is (and those of earlier versions).
   */
  readonly id: string;
  /**
   * What the database says it is, with the table: e.g. `db:<system identifier>/<database>:<schema>.<table>`,
   * the same however the host is spelled. Resolves to undefined when the database will not say
   * (then `id` alone decides); rejects when it cannot be reached. Without it `id` decides.
   */
  identify?(): Promise<string | undefined>;
  /** Inserts `rows` in one statement; resolves to how many were new (the rest were already there). */
  insert(rows: readonly UsageRow[]): Promise<number>;
  /** Resolves when an insert would work again (the same statement with no rows). */
  probe(): Promise<void>;
  close(): Promise<void>;
}

/** Counters of a sink. All are cumulative row counts except `pending`, `spillSegments` and `databaseUp`. */
export interface UsageSinkStats {
  /** Rows committed to the database straight from memory. */
  written: number;
  /** Rows in memory, not yet committed nor spilled. */
  pending: number;
  /** Rows appended (and fsync'd) to spill files. */
  spilled: number;
  /** Rows committed to the database from spill files. */
  replayed: number;
  /** Records refused: invalid at write() or rejected by the database; each one is in the quarantine file. */
  failed: number;
  /**
   * Rows lost, each one reported through onError. Stays 0 unless the database and the spill
   * directory fail together: then rows past the memory hard cap (2 x maxQueue) are dropped, and
   * so are rows close() could not get to either by closeTimeoutMs.
   */
  dropped: number;
  /** Records stored with a value clamped at write() (NaN, negative, too long, not a UUID...). */
  clamped: number;
  /** Unreadable spill lines (a torn last write, say), moved to the quarantine file. */
  corrupt: number;
  /** Rows the database already had (a replay of rows that had committed before a failure): not inserted twice. */
  duplicates: number;
  /** Spill segments waiting for replay. */
  spillSegments: number;
  /**
   * Spill directories under spillDir left by dead writers for the same schema and table in
   * another database (or one whose identity they never learnt, at another address): never
   * replayed here, each reported once through onError (`reason: 'foreign_spill'`).
   */
  foreignSpillDirs: number;
  /** Segment files in those directories. */
  foreignSpillSegments: number;
  /** False while the database is considered unreachable (rows go to the spill file). */
  databaseUp: boolean;
}

export interface BufferedSinkOptions {
  /** Rows per INSERT statement. Default 1000. */
  batchSize?: number;
  /** Longest time a row waits in memory before its (partial) batch is sent, in milliseconds. Default 250. */
  flushIntervalMs?: number;
  /** Rows held in memory before older ones are diverted to the spill file. Default 50,000. While neither the database nor the spill file accepts rows, memory is capped at twice this: rows beyond it are dropped (counted in `dropped`, reported). */
  maxQueue?: number;
  /** Batches in flight at once (also the pool size of a sink that opens its own pool). Default 2. */
  concurrency?: number;
  /** Directory for spill and quarantine files. Default `<os tmpdir>/korean-together-usage-spill`. Survives restarts: a new process replays what a dead one left for the same database and table. */
  spillDir?: string;
  /** Rows per spill segment file. Default 10,000. */
  segmentMaxRows?: number;
  /** close() finishes within this many milliseconds: rows not committed by then go to the spill file (or, when it fails too, are counted in `dropped`). Default 10,000. */
  closeTimeoutMs?: number;
  /**
   * flush() settles within this many milliseconds: when the rows are neither committed nor
   * spilled by then (the database and the spill file both fail), it rejects with a UsageLogError
   * `timeout` (`reason: 'flush_timeout'`, `rows`); the rows stay queued and retried. Default: closeTimeoutMs.
   */
  flushTimeoutMs?: number;
  /** First wait before retrying an unreachable database, in milliseconds; doubles up to `retryMaxDelayMs`. Default 250. */
  retryInitialDelayMs?: number;
  /** Longest wait between retries of an unreachable database, in milliseconds. Default 10,000. */
  retryMaxDelayMs?: number;
  /**
   * A spill directory written from another host whose writer has not shown a heartbeat for this
   * long (ms) is adopted. On the same host the writer's pid decides instead. The heartbeat runs
   * every staleAfterMs / 6 (at least every second), so at least 6,000. Default 60,000.
   */
  staleAfterMs?: number;
  /** How often spill directories of dead writers are looked for, in milliseconds. Default 30,000. */
  adoptIntervalMs?: number;
  /** Told about every problem the sink handles itself (database down, a row rejected, a spill error), with a structured `reason`. Exceptions it throws are ignored. */
  onError?: (error: UsageLogError) => void;
}

/** Replay attempts of one spill segment that fail (unreadable, undeletable) before it is set aside in `quarantine/segments/`. */
const SEGMENT_MAX_FAILURES = 5;
/** The smallest staleAfterMs: six heartbeats of at least one second each. */
const MIN_STALE_AFTER_MS = 6_000;

interface Job {
  kind: 'db' | 'spill';
  rows: UsageRow[];
  /** Sequence range [start, end) of the rows, for flush(). */
  start: number;
  end: number;
  abandoned: boolean;
  /** A spill job close() gave up waiting for: its rows are counted in `dropped` until its append succeeds after all. */
  lost?: boolean;
}

/**
 * The engine shared by the Postgres and PGlite sinks: `write()` validates and appends to an
 * in-memory queue (synchronous, O(1)); batches go to the target by size and by interval; when
 * the target fails they go to the spill file, replayed once it answers again.
 */
export class BufferedSink implements UsageSink {
  private readonly batchSize: number;
  private readonly maxQueue: number;
  private readonly concurrency: number;
  private readonly closeTimeoutMs: number;
  private readonly flushTimeoutMs: number;
  private readonly retryInitialDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private readonly onError: ((e: UsageLogError) => void) | undefined;
  private readonly spill: SpillStore;

  // Shallow copies of written records, in chunks of batchSize: O(1) append, O(1) take.
  private chunks: UsageRecord[][] = [];
  private queued = 0;
  private pushed = 0;
  private taken = 0;
  private readonly jobs = new Set<Job>();
  private dbInFlight = 0;
  private readonly spillRuns = new Set<Promise<void>>();
  private queueSpillActive = false;
  private waiters: { target: number; resolve: () => void }[] = [];
  private forceTarget = 0;
  private tick = false;
  private pumpScheduled = false;
  private dbUp = true;
  /** True while a background probe loop runs (database down); close() ends it through `stopping`. */
  private probing = false;
  /** Settles every background wait (probe loop, spill retries) at close(). */
  private readonly stopping = new AbortController();
  /** What the database said it is (undefined until known, or when it will not say). */
  private identity: string | undefined;
  private identityResolved = false;
  private adopting: Promise<void> | undefined;
  private readonly foreignReported = new Set<string>();
  private replay: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private draining = false;
  private deadlinePassed = false;
  private closed = false;
  /** Wakes spill retries that are waiting, when the database is back or close() reaches its drain deadline. */
  private wake = new Set<AbortController>();
  private replayFailures = new Map<string, number>();
  private replayNotBefore = 0;
  private replayDelay: number;
  private lastDropReport = 0;
  private spillFailing = false;
  private unreportedDrops = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly adoptTimer: NodeJS.Timeout;
  private readonly s = { written: 0, spilled: 0, replayed: 0, failed: 0, dropped: 0, clamped: 0, corrupt: 0, duplicates: 0 };

  constructor(
    private readonly target: InsertTarget,
    options: BufferedSinkOptions,
  ) {
    this.batchSize = positiveInt(options.batchSize, 1000, 'batchSize');
    this.maxQueue = positiveInt(options.maxQueue, 50_000, 'maxQueue');
    this.concurrency = positiveInt(options.concurrency, 2, 'concurrency');
    this.closeTimeoutMs = positiveInt(options.closeTimeoutMs, 10_000, 'closeTimeoutMs');
    this.flushTimeoutMs = positiveInt(options.flushTimeoutMs, this.closeTimeoutMs, 'flushTimeoutMs');
    this.retryInitialDelayMs = positiveInt(options.retryInitialDelayMs, 250, 'retryInitialDelayMs');
    this.retryMaxDelayMs = positiveInt(options.retryMaxDelayMs, 10_000, 'retryMaxDelayMs');
    this.replayDelay = this.retryInitialDelayMs;
    this.onError = options.onError;
    const flushIntervalMs = positiveInt(options.flushIntervalMs, 250, 'flushIntervalMs');
    const staleAfterMs = positiveInt(options.staleAfterMs, 60_000, 'staleAfterMs');
    if (staleAfterMs < MIN_STALE_AFTER_MS) {
      // Fewer than six heartbeats per window: one late timer would make a live writer look dead.
      throw new AiError('invalid_config', `usage-log: staleAfterMs must be at least ${MIN_STALE_AFTER_MS} ms (six heartbeats), got ${staleAfterMs}`, { retryable: false });
    }
    this.spill = new SpillStore({
      dir: options.spillDir ?? join(tmpdir(), 'korean-together-usage-spill'),
      targetId: target.id,
      relation: target.id.slice(target.id.lastIndexOf(':') + 1),
      segmentMaxRows: positiveInt(options.segmentMaxRows, 10_000, 'segmentMaxRows'),
      staleAfterMs,
      heartbeatMs: Math.max(1000, Math.floor(staleAfterMs / 6)),
    });
    this.timer = setInterval(() => {
      this.tick = true;
      this.pump();
    }, flushIntervalMs);
    this.timer.unref();
    this.adoptTimer = setInterval(() => this.adopt(), positiveInt(options.adoptIntervalMs, 30_000, 'adoptIntervalMs'));
    this.adoptTimer.unref();
    this.adopt();
  }

  /**
   * Queues a shallow copy of one record. Synchronous, O(1), never throws, never waits on I/O.
   * Validation (reject or clamp, counted in stats) runs on the sink's own turn, before the
   * record joins a batch, so the caller never pays for it.
   */
  write(record: UsageRecord): void {
    try {
      if (typeof record !== 'object' || record === null) {
        this.refuse(record, 'record is not an object');
        return;
      }
      if (this.closed) {
        this.writeLate(record);
        return;
      }
      if (this.spillFailing && this.queued >= this.maxQueue * 2) {
        // Neither the database nor the spill file takes rows: memory must not grow without bound.
        this.drop(1, 'the database and the spill file both fail and memory holds twice maxQueue rows');
        return;
      }
      let tail = this.chunks[this.chunks.length - 1];
      if (tail === undefined || tail.length >= this.batchSize) {
        tail = [];
        this.chunks.push(tail);
      }
      const copy = { ...record };
      // A Date is mutable: the caller reusing its object must not change the stored time.
      if (copy.createdAt instanceof Date) copy.createdAt = new Date(copy.createdAt.getTime());
      tail.push(copy);
      this.queued++;
      this.pushed++;
      if (tail.length === this.batchSize || this.queued > this.maxQueue) this.schedulePump();
    } catch (err) {
      this.report(new UsageLogError('invalid_request', `usage-log: write() failed: ${safeProviderText(err)}`, { reason: 'write_failed', rows: 1, retryable: false, cause: err }));
    }
  }

  /** Validates queued records into rows; refused ones are counted and quarantined here. */
  private prepare(records: UsageRecord[]): UsageRow[] {
    const rows: UsageRow[] = [];
    for (const r of records) {
      const n = normalizeUsage(r);
      if (!n.ok) {
        this.refuse(r, n.reason);
        continue;
      }
      if (n.clamped) this.s.clamped++;
      rows.push(n.row);
    }
    return rows;
  }

  private refuse(record: unknown, reason: string): void {
    this.s.failed++;
    this.quarantine({ reason: 'invalid_record', detail: reason, record: describeRejected(record) });
    this.report(new UsageLogError('invalid_request', `usage-log: record refused: ${reason}`, { reason: 'record_refused', rows: 1, retryable: false }));
  }

  /**
   * Resolves when every record written before the call is committed or in the fsync'd spill
   * file (or, once close() ran, dropped and reported). Rejects with a UsageLogError `timeout`
   * (`reason: 'flush_timeout'`) when that has not happened within flushTimeoutMs: the database
   * and the spill file both fail. Those rows stay queued and retried; close() settles them.
   */
  flush(): Promise<void> {
    const target = this.pushed;
    if (this.minOutstanding() >= target) return Promise.resolve();
    const waiter = this.durable(target);
    return pTimeout(waiter.promise, {
      milliseconds: this.flushTimeoutMs,
      fallback: () => {
        this.waiters = this.waiters.filter((w) => w !== waiter.entry);
        const rows = target - this.minOutstanding();
        throw new UsageLogError(
          'timeout',
          `usage-log: flush() gave up after ${this.flushTimeoutMs} ms: up to ${rows} usage row(s) are neither committed nor in the spill file yet (both fail); they stay queued`,
          { reason: 'flush_timeout', rows, retryable: true },
        );
      },
    });
  }

  /** A promise that resolves once the rows before sequence `target` are committed or spilled. */
  private durable(target: number): { promise: Promise<void>; entry: { target: number; resolve: () => void } } {
    this.forceTarget = Math.max(this.forceTarget, target);
    let entry!: { target: number; resolve: () => void };
    const promise = new Promise<void>((resolve) => {
      entry = { target, resolve };
      this.waiters.push(entry);
    });
    this.schedulePump();
    return { promise, entry };
  }

  /**
   * Drains to the database, or to the spill file, within `closeTimeoutMs`, then releases the
   * target. Records written afterwards are appended to the spill file synchronously.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  stats(): UsageSinkStats {
    let inJobs = 0;
    for (const j of this.jobs) inJobs += j.rows.length;
    return {
      written: this.s.written,
      pending: this.queued + inJobs,
      spilled: this.s.spilled,
      replayed: this.s.replayed,
      failed: this.s.failed,
      dropped: this.s.dropped,
      clamped: this.s.clamped,
      corrupt: this.s.corrupt,
      duplicates: this.s.duplicates,
      spillSegments: this.spill.backlogSegments,
      foreignSpillDirs: this.spill.foreignDirs.length,
      foreignSpillSegments: this.spill.foreignDirs.reduce((n, d) => n + d.segments, 0),
      databaseUp: this.dbUp,
    };
  }

  /** The spill and quarantine directory of this instance (for tools and tests). */
  get spillInstanceDir(): string {
    return this.spill.ownDir;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.deadlinePassed) return;
    const force = this.tick || this.draining || this.forceTarget > this.taken;
    this.tick = false;
    if (!this.dbUp) {
      if (this.queued > 0 && (force || this.queued >= this.batchSize)) this.spillQueued(this.chunks.length);
      return;
    }
    // The backlog first: under sustained load live batches would otherwise take every slot and
    // the spill would never drain. Replay takes one slot, one segment at a time.
    this.maybeReplay();
    while (this.dbInFlight < this.concurrency && this.chunks.length > 0) {
      if (this.chunks[0]!.length < this.batchSize && !force) break;
      this.startDb(this.take(1));
    }
    if (this.queued > this.maxQueue) {
      // The database is slower than the writers: divert the oldest rows to disk, keep memory bounded.
      let n = 0;
      let rows = this.queued;
      while (n < this.chunks.length && rows > this.maxQueue / 2) rows -= this.chunks[n++]!.length;
      this.spillQueued(n);
    }
  }

  private take(nChunks: number): Job {
    const taken = this.chunks.splice(0, nChunks);
    const records = taken.length === 1 ? taken[0]! : taken.flat();
    this.queued -= records.length;
    const job: Job = { kind: 'db', rows: this.prepare(records), start: this.taken, end: this.taken + records.length, abandoned: false };
    this.taken = job.end;
    this.jobs.add(job);
    return job;
  }

  private startDb(job: Job): void {
    this.dbInFlight++;
    void this.insertSplitting(job.rows, false, job).then(
      (res) => {
        this.dbInFlight--;
        if (res && !job.abandoned) {
          this.markDown(res.error);
          // Same sequence range, now owed by the spill.
          job.rows = res.remaining;
          this.runSpill(job);
        } else {
          this.jobs.delete(job);
        }
        this.settle();
        this.schedulePump();
      },
      (err: unknown) => {
        // insertSplitting does not throw; guard anyway so rows are never forgotten.
        this.dbInFlight--;
        this.markDown(err);
        if (!job.abandoned) this.runSpill(job);
        this.schedulePump();
      },
    );
  }

  private spillQueued(nChunks: number): void {
    // One queue-to-disk append at a time: later rows coalesce into the next one (one fsync per group).
    if (this.queueSpillActive || nChunks === 0) return;
    this.queueSpillActive = true;
    this.runSpill(this.take(nChunks), () => {
      this.queueSpillActive = false;
    });
  }

  private runSpill(job: Job, done?: () => void): void {
    job.kind = 'spill';
    this.jobs.add(job);
    let backToDb = false;
    const run = (async () => {
      let appended = false;
      const append = retryable(async () => {
        await this.spill.append(job.rows);
        appended = true;
      });
      // Aborted when the database answers again or close() reaches its drain deadline.
      let wake = new AbortController();
      this.wake.add(wake);
      const attempt = (n: number) => {
        // After a backoff wait: a database that answers again is a better place for these rows.
        if (n > 1 && this.dbUp && !this.deadlinePassed) throw new AbortError('the database answers again');
        return append();
      };
      try {
        while (!appended) {
          try {
            await pRetry(attempt, {
              retries: Infinity,
              factor: 2,
              minTimeout: this.retryInitialDelayMs,
              maxTimeout: this.retryMaxDelayMs,
              randomize: true,
              // A background retry: it must never be what keeps the process alive.
              unref: true,
              signal: wake.signal,
              onFailedAttempt: ({ error }) => this.spillFailed(error),
              // Past close()'s drain deadline nobody would wake a waiting retry: stop (rows counted lost below).
              shouldRetry: () => !this.deadlinePassed,
            });
          } catch {
            if (appended) break;
            if (this.deadlinePassed) {
              // close() is at its drain deadline: one last try, then the rows count as lost.
              try {
                await append();
              } catch (last) {
                this.spillFailed(last);
                if (!job.lost) this.drop(job.rows.length, `close() could not write them to the spill file: ${safeProviderText(last)}`);
                job.lost = true;
              }
              break;
            }
            if (this.dbUp) {
              // The database answers again: these rows are better off there than waiting on the disk.
              backToDb = true;
              break;
            }
            // Woken for a database that failed again at once: keep retrying the spill.
            if (wake.signal.aborted) {
              this.wake.delete(wake);
              wake = new AbortController();
              this.wake.add(wake);
            }
          }
        }
      } finally {
        this.wake.delete(wake);
      }
      if (appended) {
        this.spillFailing = false;
        this.s.spilled += job.rows.length;
        // close() had given these up for lost; they made it after all.
        if (job.lost) this.s.dropped -= job.rows.length;
      }
    })();
    const tracked = run.finally(() => {
      this.spillRuns.delete(tracked);
      done?.();
      if (backToDb) {
        job.kind = 'db';
        this.startDb(job);
      } else {
        this.jobs.delete(job);
      }
      this.settle();
      this.schedulePump();
    });
    this.spillRuns.add(tracked);
  }

  /** A spill append failed: reported once per failing streak (the rows are kept and retried, or counted as dropped). */
  private spillFailed(err: unknown): void {
    if (this.spillFailing) return;
    this.spillFailing = true;
    this.report(
      new UsageLogError('unavailable', `usage-log: cannot append to the spill file in ${this.spill.ownDir}: ${safeProviderText(err)}`, {
        reason: 'spill_failed',
        cause: err,
      }),
    );
  }

  /** Ends the backoff wait of every spill retry (the database is back, or close() is at its drain deadline). */
  private wakeAll(): void {
    for (const w of this.wake) w.abort();
    this.wake.clear();
  }

  /** Counts lost rows and reports them: at once, then at most once a second with the running count. */
  private drop(n: number, why: string): void {
    this.s.dropped += n;
    this.unreportedDrops += n;
    if (this.closed || Date.now() - this.lastDropReport >= 1000) this.reportDrops(why);
  }

  private reportDrops(why: string): void {
    if (this.unreportedDrops === 0) return;
    const n = this.unreportedDrops;
    this.unreportedDrops = 0;
    this.lastDropReport = Date.now();
    this.report(new UsageLogError('unavailable', `usage-log: ${n} usage row(s) lost (stats().dropped): ${why}`, { reason: 'rows_dropped', rows: n, retryable: false }));
  }

  /**
   * Inserts rows. When the server answers a batch with an error, the same statement with no rows
   * tells whose fault it is: if that works, the rows are (a host trigger, CHECK, row-level
   * security policy, anything with any SQLSTATE), and the batch is split in halves until the bad
   * row stands alone; it is quarantined while the rest commit. Resolves to undefined when every
   * row is committed or quarantined, or to the error and the rows not yet committed when the
   * database itself failed (no answer, unavailable, or the empty statement fails too).
   */
  private async insertSplitting(rows: UsageRow[], fromSpill: boolean, job?: Job): Promise<{ error: unknown; remaining: UsageRow[] } | undefined> {
    const stack: UsageRow[][] = [rows];
    while (stack.length > 0) {
      const part = stack.pop()!;
      try {
        const inserted = await this.target.insert(part);
        if (job?.abandoned) continue;
        if (fromSpill) this.s.replayed += part.length;
        else this.s.written += part.length;
        this.s.duplicates += part.length - inserted;
        if (!this.identityResolved) this.adopt();
      } catch (err) {
        if (!job?.abandoned && (await this.rowsAtFault(err))) {
          if (part.length > 1) {
            const mid = part.length >> 1;
            stack.push(part.slice(mid), part.slice(0, mid));
            continue;
          }
          this.rejectRow(part[0]!, err);
          continue;
        }
        return { error: err, remaining: [part, ...stack.reverse()].flat() };
      }
    }
    return undefined;
  }

  /**
   * Whether a failed insert is the rows' fault rather than the database's: the server answered
   * it with an error on a live session, and the same statement with no rows still works (so the
   * table, the grants and the connection are fine). Asked again for every failing part, so a
   * table that breaks in the middle of a split never gets good rows quarantined.
   */
  private async rowsAtFault(err: unknown): Promise<boolean> {
    if (classifyFailure(err) === 'database') return false;
    try {
      await this.target.probe();
      return true;
    } catch {
      return false;
    }
  }

  private rejectRow(row: UsageRow, err: unknown): void {
    this.s.failed++;
    const e = err as { code?: string; constraint?: string; column?: string; message?: string };
    // The message only: `detail` can quote the whole failing row.
    const message = safeProviderText(e.message ?? err, 200);
    this.quarantine({ reason: 'rejected_by_database', sqlstate: e.code, constraint: e.constraint, column: e.column, message, row });
    this.report(
      new UsageLogError('invalid_request', `usage-log: the database rejected usage row ${row.id} (SQLSTATE ${e.code ?? '?'}): ${message}`, {
        reason: 'row_rejected',
        rows: 1,
        ...(typeof e.code === 'string' && { sqlstate: e.code }),
        retryable: false,
        cause: err,
      }),
    );
  }

  private markDown(err: unknown): void {
    if (this.dbUp) {
      this.dbUp = false;
      const code = (err as { code?: unknown } | null)?.code;
      this.report(
        new UsageLogError('unavailable', `usage-log: database write failed, rows go to the spill file until it answers again: ${safeProviderText(err)}`, {
          reason: 'database_unavailable',
          ...(typeof code === 'string' && { sqlstate: code }),
          cause: err,
        }),
      );
    }
    this.startProbing();
  }

  /**
   * Probes the database in the background (the insert statement with no rows, so a revoked
   * grant keeps it down) with jittered exponential backoff, until it answers or close() runs.
   */
  private startProbing(): void {
    if (this.probing || this.deadlinePassed) return;
    this.probing = true;
    const signal = this.stopping.signal;
    void (async () => {
      // The failure just happened: wait once before the first probe.
      await delay(this.retryInitialDelayMs * (0.5 + Math.random() * 0.5), undefined, { ref: false, signal });
      await pRetry(retryable(() => this.target.probe()), {
        retries: Infinity,
        factor: 2,
        minTimeout: this.retryInitialDelayMs,
        maxTimeout: this.retryMaxDelayMs,
        randomize: true,
        // Background timers: they never keep the process alive.
        unref: true,
        signal,
      });
    })().then(
      () => {
        this.probing = false;
        if (this.deadlinePassed) return;
        this.dbUp = true;
        this.wakeAll();
        this.schedulePump();
        // The database may be another one than the spill files of dead writers were for, or be known now.
        this.adopt();
      },
      () => {
        // Aborted by close().
        this.probing = false;
      },
    );
  }

  private maybeReplay(): void {
    if (!this.dbUp || this.replay || this.deadlinePassed) return;
    if (this.dbInFlight >= this.concurrency || !this.spill.hasBacklog()) return;
    if (Date.now() < this.replayNotBefore) return;
    this.dbInFlight++;
    this.replay = this.replayOne()
      .catch((err: unknown) => this.report(new UsageLogError('unavailable', `usage-log: spill replay failed: ${safeProviderText(err)}`, { reason: 'replay_failed', cause: err })))
      .finally(() => {
        this.dbInFlight--;
        this.replay = undefined;
        this.schedulePump();
      });
  }

  /** Replays the oldest spill segment; removes it once every row is committed (or quarantined). */
  private async replayOne(): Promise<void> {
    const seg = await this.spill.nextSegment();
    if (!seg) return;
    try {
      await this.replaySegment(seg);
    } catch (err) {
      await this.replayFailed(seg, err);
      return;
    }
    this.replayFailures.delete(seg.path);
    this.replayDelay = this.retryInitialDelayMs;
  }

  /**
   * A segment that cannot be read or removed: wait before the next replay (doubling, like the
   * probes), let the other segments go first, and after SEGMENT_MAX_FAILURES set it aside.
   */
  private async replayFailed(seg: Segment, err: unknown): Promise<void> {
    const n = (this.replayFailures.get(seg.path) ?? 0) + 1;
    this.replayNotBefore = Date.now() + this.replayDelay;
    this.replayDelay = Math.min(this.replayDelay * 2, this.retryMaxDelayMs);
    if (n < SEGMENT_MAX_FAILURES) {
      this.replayFailures.set(seg.path, n);
      this.spill.defer(seg);
      this.report(
        new UsageLogError('unavailable', `usage-log: cannot replay spill segment ${segmentName(seg)} (attempt ${n} of ${SEGMENT_MAX_FAILURES}): ${safeProviderText(err)}`, {
          reason: 'replay_failed',
          spillDir: segmentName(seg),
          cause: err,
        }),
      );
      return;
    }
    this.replayFailures.delete(seg.path);
    const dest = await this.spill.setAside(seg);
    this.report(
      new UsageLogError(
        'unavailable',
        `usage-log: spill segment ${segmentName(seg)} failed ${n} replays and is set aside ${dest ? `in ${dest}` : '(it could not be moved; this sink skips it)'}: ${safeProviderText(err)}`,
        { reason: 'segment_set_aside', spillDir: segmentName(seg), retryable: false, cause: err },
      ),
    );
  }

  private async replaySegment(seg: Segment): Promise<void> {
    const data = await this.spill.readSegment(seg);
    if (!data) return;
    for (let i = 0; i < data.rows.length; i += this.batchSize) {
      if (this.deadlinePassed) return;
      const res = await this.insertSplitting(data.rows.slice(i, i + this.batchSize), true);
      if (res) {
        this.markDown(res.error);
        return;
      }
    }
    // Quarantine torn lines only now, so an interrupted replay does not record them twice.
    for (const bad of data.corrupt) {
      this.s.corrupt++;
      await this.spill.quarantine({ reason: 'corrupt_spill_line', segment: segmentName(seg), line: bad.line, raw: bad.raw.slice(0, 2000) }).catch(() => {});
    }
    if (data.corrupt.length) {
      this.report(
        new UsageLogError('invalid_request', `usage-log: ${data.corrupt.length} unreadable line(s) in spill segment ${segmentName(seg)} quarantined`, {
          reason: 'corrupt_spill_lines',
          rows: data.corrupt.length,
          spillDir: segmentName(seg),
          retryable: false,
        }),
      );
    }
    await this.spill.removeSegment(seg);
  }

  /**
   * Learns what the database says it is (once it answers), then looks for spill directories of
   * dead writers: those for this database and table are queued for replay; those for the same
   * table in another database are counted in stats() and reported once each. Until the database
   * has answered nothing is adopted: which directories are its own is not known yet (and rows
   * could not be replayed anyway).
   */
  private adopt(): void {
    if (this.adopting || this.closed) return;
    this.adopting = (async () => {
      if (!this.identityResolved) {
        try {
          this.identity = await this.target.identify?.();
        } catch {
          // Unreachable: the write path reports that. Asked again on recovery and every adoptIntervalMs.
          return;
        }
        this.identityResolved = true;
        this.spill.setIdentity(this.identity);
      }
      if ((await this.spill.adoptStale()) > 0) this.schedulePump();
      for (const f of this.spill.foreignDirs) this.reportForeign(f);
    })()
      .catch((err: unknown) =>
        this.report(new UsageLogError('unavailable', `usage-log: cannot scan the spill directory: ${safeProviderText(err)}`, { reason: 'spill_scan_failed', cause: err })),
      )
      .finally(() => {
        this.adopting = undefined;
      });
  }

  private reportForeign(f: ForeignSpill): void {
    if (this.foreignReported.has(f.name)) return;
    this.foreignReported.add(f.name);
    const other = f.databaseId
      ? `another database (${f.databaseId})`
      : `a database at another address (${f.targetId}) that it never reached, so which database is not known`;
    this.report(
      new UsageLogError(
        'unavailable',
        `usage-log: spill directory ${f.name} holds ${f.segments} segment(s) of usage rows a dead writer left for the same table in ${other}; they are not replayed into this database (stats().foreignSpillSegments). Point a sink at that database with this spillDir to replay them`,
        { reason: 'foreign_spill', spillDir: f.name, retryable: false },
      ),
    );
  }

  private minOutstanding(): number {
    let min = this.taken;
    for (const j of this.jobs) if (j.start < min) min = j.start;
    return min;
  }

  private settle(): void {
    if (this.waiters.length === 0) return;
    const min = this.minOutstanding();
    const still: typeof this.waiters = [];
    for (const w of this.waiters) (w.target <= min ? w.resolve() : still.push(w));
    this.waiters = still;
  }

  private async doClose(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.adoptTimer);
    this.draining = true;
    const deadline = Date.now() + this.closeTimeoutMs;
    // Time kept back for writing what is left to the spill file.
    const drainBy = deadline - Math.min(2000, Math.floor(this.closeTimeoutMs / 5));
    // Not flush(): that one gives up at flushTimeoutMs; here the drain deadline decides.
    if (this.minOutstanding() < this.pushed) await raceUntil(this.durable(this.pushed).promise, drainBy);
    // A scan under way (at construction, on recovery) may be about to queue dead writers' segments.
    if (this.adopting) await raceUntil(this.adopting, drainBy);
    // Replay what earlier failures spilled, while the database answers and time is left.
    if (!this.dbUp && this.spill.hasBacklog()) {
      const probe = this.target.probe().then(
        () => {
          this.dbUp = true;
        },
        () => {},
      );
      await raceUntil(probe, drainBy);
    }
    while (this.dbUp && this.spill.hasBacklog() && Date.now() < drainBy) {
      if (!this.replay) this.maybeReplay();
      if (!this.replay || !(await raceUntil(this.replay, drainBy))) break;
    }
    // No await from here until `closed` is set: a record written in between would join a queue
    // nobody reads any more. From now on write() appends to the spill file itself.
    this.deadlinePassed = true;
    this.closed = true;
    // Ends the background probe loop.
    this.stopping.abort();
    // Spill retries waiting out a backoff try once more now (and count their rows lost if that fails).
    this.wakeAll();
    // Whatever is still in memory or in flight to the database goes to disk. A batch in flight
    // may still commit: its replay is then a no-op (ON CONFLICT DO NOTHING).
    const leftovers: UsageRow[] = [];
    for (const j of [...this.jobs]) {
      if (j.kind !== 'db') continue;
      j.abandoned = true;
      this.jobs.delete(j);
      leftovers.push(...j.rows);
    }
    for (const c of this.chunks) leftovers.push(...this.prepare(c));
    this.chunks = [];
    this.queued = 0;
    this.taken = this.pushed;
    if (this.spillRuns.size) await raceUntil(Promise.all([...this.spillRuns]), deadline);
    for (const j of this.jobs) {
      if (j.kind !== 'spill' || j.lost) continue;
      j.lost = true;
      this.drop(j.rows.length, `close() timed out after ${this.closeTimeoutMs} ms while they were being written to the spill file`);
    }
    if (leftovers.length) {
      let late = false;
      const n = leftovers.length;
      const append = this.spill.append(leftovers).then(
        () => {
          this.s.spilled += n;
          if (late) this.s.dropped -= n;
        },
        (err: unknown) => {
          if (!late) this.drop(n, `close() could not write them to the spill file: ${safeProviderText(err)}`);
        },
      );
      if (!(await raceUntil(append, deadline))) {
        late = true;
        this.drop(n, `close() timed out after ${this.closeTimeoutMs} ms while they were being written to the spill file`);
      }
    }
    this.reportDrops('close()');
    await raceUntil(this.spill.close().catch(() => {}), deadline);
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
    // Releasing the connections goes on in the background past the deadline, if it must.
    await raceUntil(this.target.close().catch(() => {}), deadline);
  }

  private writeLate(record: UsageRecord): void {
    try {
      const rows = this.prepare([record]);
      if (rows.length === 0) return;
      this.spill.appendSync(rows);
      this.s.spilled++;
    } catch (err) {
      this.s.dropped++;
      this.report(
        new UsageLogError('unavailable', `usage-log: write() after close() could not reach the spill file: ${safeProviderText(err)}`, { reason: 'rows_dropped', rows: 1, cause: err }),
      );
    }
  }

  private quarantine(entry: Record<string, unknown>): void {
    this.spill.quarantine(entry).catch((err: unknown) => {
      this.report(new UsageLogError('unavailable', `usage-log: cannot write the quarantine file: ${safeProviderText(err)}`, { reason: 'quarantine_failed', cause: err }));
    });
  }

  private report(err: UsageLogError): void {
    if (!this.onError) return;
    try {
      this.onError(err);
    } catch {
      // A failing error hook must not break the sink.
    }
  }
}

/** `fn` with a TypeError rethrown as a plain Error: p-retry never retries a TypeError, and these failures are always worth another try. */
function retryable<T>(fn: () => Promise<T>): () => Promise<T> {
  return () =>
    fn().catch((err: unknown) => {
      throw err instanceof TypeError ? new Error(err.message, { cause: err }) : err;
    });
}

function segmentName(seg: Segment): string {
  const parts = seg.path.split(/[\\/]/);
  return parts.slice(-2).join('/');
}

function positiveInt(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v <= 0) throw new AiError('invalid_config', `usage-log: ${name} must be a positive integer, got ${String(v)}`, { retryable: false });
  return v;
}

/** Waits for `p` until `deadline` (epoch ms); true when it settled in time. The timer is ref'd: close() is awaited. */
function raceUntil(p: Promise<unknown>, deadline: number): Promise<boolean> {
  const ms = deadline - Date.now();
  if (ms <= 0) return Promise.resolve(false);
  return pTimeout(
    p.then(
      () => true,
      () => true,
    ),
    { milliseconds: ms, fallback: () => false },
  );
}
