import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AiError, safeProviderText, type UsageRecord, type UsageSink } from '@korean-together/core';
import { isRowError } from './insert-statement.js';
import { SpillStore, type Segment } from './spill.js';
import { describeRejected, normalizeUsage, type UsageRow } from './usage-row.js';

/** Where rows end up: a database table reached through one idempotent batch insert. */
export interface InsertTarget {
  /** Stable identity of the destination (database + table, never a password): spill files are only replayed into the same one. */
  readonly id: string;
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
  /** close() finishes within this many milliseconds: rows not committed by then go to the spill file. Default 10,000. */
  closeTimeoutMs?: number;
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
  /** Told about every problem the sink handles itself (database down, a row rejected, a spill error). Never throws into the sink. */
  onError?: (error: AiError) => void;
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
  private readonly retryInitialDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private readonly onError: ((e: AiError) => void) | undefined;
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
  private probeTimer: NodeJS.Timeout | undefined;
  private probeDelay: number;
  private replay: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private draining = false;
  private deadlinePassed = false;
  private closed = false;
  /** Wakes spill retries that are waiting, when the database is back or close() reaches its drain deadline. */
  private wake: (() => void)[] = [];
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
    this.retryInitialDelayMs = positiveInt(options.retryInitialDelayMs, 250, 'retryInitialDelayMs');
    this.retryMaxDelayMs = positiveInt(options.retryMaxDelayMs, 10_000, 'retryMaxDelayMs');
    this.probeDelay = this.retryInitialDelayMs;
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
      this.report(new AiError('invalid_request', `usage-log: write() failed: ${safeProviderText(err)}`, { retryable: false, cause: err }));
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
    this.report(new AiError('invalid_request', `usage-log: record refused: ${reason}`, { retryable: false }));
  }

  /** Resolves when every record written before the call is committed or in the fsync'd spill file. */
  flush(): Promise<void> {
    const target = this.pushed;
    if (this.minOutstanding() >= target) return Promise.resolve();
    this.forceTarget = Math.max(this.forceTarget, target);
    const p = new Promise<void>((resolve) => this.waiters.push({ target, resolve }));
    this.schedulePump();
    return p;
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
      let delay = this.retryInitialDelayMs;
      for (;;) {
        try {
          await this.spill.append(job.rows);
          this.spillFailing = false;
          this.s.spilled += job.rows.length;
          // close() had given these up for lost; they made it after all.
          if (job.lost) this.s.dropped -= job.rows.length;
          break;
        } catch (err) {
          this.spillFailing = true;
          this.report(new AiError('unavailable', `usage-log: cannot append to the spill file in ${this.spill.ownDir}: ${safeProviderText(err)}`, { cause: err }));
          if (this.deadlinePassed) {
            if (!job.lost) this.drop(job.rows.length, `close() could not write them to the spill file: ${safeProviderText(err)}`);
            job.lost = true;
            break;
          }
          await this.waitRetry(delay);
          delay = Math.min(delay * 2, this.retryMaxDelayMs);
          // The database answers again: these rows are better off there than waiting on the disk.
          if (this.dbUp && !this.deadlinePassed) {
            backToDb = true;
            break;
          }
        }
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

  /** Sleeps `ms`, or less when the database comes back or close() reaches its drain deadline. */
  private waitRetry(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        const i = this.wake.indexOf(done);
        if (i >= 0) this.wake.splice(i, 1);
        resolve();
      };
      const t = setTimeout(done, ms);
      t.unref();
      this.wake.push(done);
    });
  }

  private wakeAll(): void {
    for (const w of [...this.wake]) w();
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
    this.report(new AiError('unavailable', `usage-log: ${n} usage row(s) lost (stats().dropped): ${why}`, { retryable: false }));
  }

  /**
   * Inserts rows; a batch the database refuses for its data is split in halves until the bad
   * row stands alone, which is quarantined while the rest commit. Resolves to undefined when
   * every row is committed or quarantined, or to the error and the rows not yet committed when
   * the database itself failed.
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
      } catch (err) {
        if (isRowError(err)) {
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

  private rejectRow(row: UsageRow, err: unknown): void {
    this.s.failed++;
    const e = err as { code?: string; constraint?: string; column?: string; message?: string };
    // The message only: `detail` can quote the whole failing row.
    const message = safeProviderText(e.message ?? err, 200);
    this.quarantine({ reason: 'rejected_by_database', sqlstate: e.code, constraint: e.constraint, column: e.column, message, row });
    this.report(new AiError('invalid_request', `usage-log: the database rejected usage row ${row.id} (SQLSTATE ${e.code ?? '?'}): ${message}`, { retryable: false, cause: err }));
  }

  private markDown(err: unknown): void {
    if (this.dbUp) {
      this.dbUp = false;
      this.report(
        new AiError('unavailable', `usage-log: database write failed, rows go to the spill file until it answers again: ${safeProviderText(err)}`, {
          cause: err,
        }),
      );
    }
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.probeTimer || this.deadlinePassed) return;
    const delay = this.probeDelay * (0.75 + Math.random() * 0.5);
    this.probeDelay = Math.min(this.probeDelay * 2, this.retryMaxDelayMs);
    this.probeTimer = setTimeout(() => {
      this.target.probe().then(
        () => {
          this.probeTimer = undefined;
          this.dbUp = true;
          this.probeDelay = this.retryInitialDelayMs;
          this.wakeAll();
          this.schedulePump();
        },
        () => {
          this.probeTimer = undefined;
          this.scheduleProbe();
        },
      );
    }, delay);
    this.probeTimer.unref();
  }

  private maybeReplay(): void {
    if (!this.dbUp || this.replay || this.deadlinePassed) return;
    if (this.dbInFlight >= this.concurrency || !this.spill.hasBacklog()) return;
    if (Date.now() < this.replayNotBefore) return;
    this.dbInFlight++;
    this.replay = this.replayOne()
      .catch((err: unknown) => this.report(new AiError('unavailable', `usage-log: spill replay failed: ${safeProviderText(err)}`, { cause: err })))
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
      this.report(new AiError('unavailable', `usage-log: cannot replay spill segment ${segmentName(seg)} (attempt ${n} of ${SEGMENT_MAX_FAILURES}): ${safeProviderText(err)}`, { cause: err }));
      return;
    }
    this.replayFailures.delete(seg.path);
    const dest = await this.spill.setAside(seg);
    this.report(
      new AiError(
        'unavailable',
        `usage-log: spill segment ${segmentName(seg)} failed ${n} replays and is set aside ${dest ? `in ${dest}` : '(it could not be moved; this sink skips it)'}: ${safeProviderText(err)}`,
        { retryable: false, cause: err },
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
      this.report(new AiError('invalid_request', `usage-log: ${data.corrupt.length} unreadable line(s) in spill segment ${segmentName(seg)} quarantined`, { retryable: false }));
    }
    await this.spill.removeSegment(seg);
  }

  private adopt(): void {
    this.spill.adoptStale().then(
      (n) => {
        if (n > 0) this.schedulePump();
      },
      (err: unknown) => this.report(new AiError('unavailable', `usage-log: cannot scan the spill directory: ${safeProviderText(err)}`, { cause: err })),
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
    await raceUntil(this.flush(), drainBy);
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
    if (this.probeTimer) clearTimeout(this.probeTimer);
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
    await raceUntil(this.target.close().catch(() => {}), Math.max(deadline, Date.now() + 1000));
  }

  private writeLate(record: UsageRecord): void {
    try {
      const rows = this.prepare([record]);
      if (rows.length === 0) return;
      this.spill.appendSync(rows);
      this.s.spilled++;
    } catch (err) {
      this.s.dropped++;
      this.report(new AiError('unavailable', `usage-log: write() after close() could not reach the spill file: ${safeProviderText(err)}`, { cause: err }));
    }
  }

  private quarantine(entry: Record<string, unknown>): void {
    this.spill.quarantine(entry).catch((err: unknown) => {
      this.report(new AiError('unavailable', `usage-log: cannot write the quarantine file: ${safeProviderText(err)}`, { cause: err }));
    });
  }

  private report(err: AiError): void {
    if (!this.onError) return;
    try {
      this.onError(err);
    } catch {
      // A failing error hook must not break the sink.
    }
  }
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

/** Waits for `p` until `deadline` (epoch ms); true when it settled in time. */
async function raceUntil(p: Promise<unknown>, deadline: number): Promise<boolean> {
  const ms = deadline - Date.now();
  if (ms <= 0) return false;
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => {
    t = setTimeout(() => r(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(t);
  }
}
