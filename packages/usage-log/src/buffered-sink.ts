import pTimeout from 'p-timeout';
import type { Clock, UsageRecord, UsageSink } from '@korean-together/core';
import { safeProviderText } from '@korean-together/core/provider-kit';
import { BatchRouter, type Job, type SinkPhase } from './batch-router.js';
import { DatabaseHealth } from './database-health.js';
import type { InsertTarget } from './insert-target.js';
import { RecordQueue } from './record-queue.js';
import { Replayer } from './replayer.js';
import { RowLedger } from './row-ledger.js';
import { SINK_LIMITS, sinkSettings, type BufferedSinkOptions, type SinkSettings } from './sink-options.js';
import { sinkReport, SinkReporter } from './sink-reports.js';
import type { UsageSinkStats } from './sink-stats.js';
import { SpillAdopter } from './spill-adopter.js';
import { SpillRetry } from './spill-retry.js';
import { SpillStore } from './spill.js';
import { pTimeoutTimers, repeatInBackground, settlesBy } from './timers.js';
import type { UsageRow } from './usage-row.js';

/**
 * The engine shared by the Postgres and PGlite sinks, put together from its parts: `write()`
 * puts a copy in the RecordQueue; the BatchRouter sends batches to the database, or to the spill
 * file (SpillRetry) while the DatabaseHealth probe finds it down; the Replayer brings spilled
 * rows back; the SpillAdopter takes over what dead writers left; the RowLedger counts and
 * reports. This class is the UsageSink face and the lifecycle: one `phase`, and close().
 */
export class BufferedSink implements UsageSink {
  private phase: SinkPhase = 'open';
  private closing: Promise<void> | undefined;
  private readonly settings: SinkSettings;
  private readonly clock: Clock;
  private readonly reporter: SinkReporter;
  private readonly queue: RecordQueue<Job>;
  private readonly spill: SpillStore;
  private readonly ledger: RowLedger;
  /** The ledger's counts (stats()). */
  private readonly s: RowLedger['counts'];
  private readonly health: DatabaseHealth;
  private readonly spillRetry: SpillRetry;
  private readonly replayer: Replayer;
  private readonly adopter: SpillAdopter;
  private readonly router: BatchRouter;
  private readonly timers: { stop(): void }[];

  constructor(
    private readonly target: InsertTarget,
    options: BufferedSinkOptions,
  ) {
    const o = (this.settings = sinkSettings(options));
    const { clock, backoff } = o;
    this.clock = clock;
    const reporter = (this.reporter = new SinkReporter(o.onError, clock));
    const closed = () => this.phase === 'closed';
    this.queue = new RecordQueue(o.batchSize, o.maxQueue);
    const spill = (this.spill = new SpillStore({ dir: o.spillDir, targetId: target.id, segmentMaxRows: o.segmentMaxRows, staleAfterMs: o.staleAfterMs, heartbeatMs: o.heartbeatMs, clock }));
    this.ledger = new RowLedger(reporter, spill);
    this.s = this.ledger.counts;
    this.health = new DatabaseHealth({
      probe: () => target.probe(),
      clock,
      backoff,
      onDown: (err) => reporter.report(sinkReport.databaseUnavailable(err)),
      onUp: () => {
        this.spillRetry.wakeAll();
        this.router.schedulePump();
        // The database may be another one than the spill files of dead writers were for, or be known now.
        this.adopter.adopt();
      },
    });
    this.spillRetry = new SpillRetry({ spill, clock, backoff, databaseUp: () => this.health.up, closed, reporter });
    this.replayer = new Replayer({
      spill,
      batchSize: o.batchSize,
      clock,
      backoff,
      commit: async (rows) => (await this.router.commit(rows, 'replayed')) === undefined,
      stopped: closed,
      reporter,
      onCorrupt: () => this.s.corrupt++,
    });
    this.adopter = new SpillAdopter({ spill, ...(target.identify && { identify: () => target.identify!() }), stopped: closed, onAdopted: () => this.router.schedulePump(), reporter });
    this.router = new BatchRouter({ settings: o, target, queue: this.queue, ledger: this.ledger, health: this.health, spillRetry: this.spillRetry, replayer: this.replayer, adopter: this.adopter, phase: () => this.phase });
    this.timers = [
      repeatInBackground(clock, o.flushIntervalMs, () => this.router.onTick()),
      repeatInBackground(clock, o.adoptIntervalMs, () => this.adopter.adopt()),
    ];
    this.adopter.adopt();
  }

  /**
   * Queues a shallow copy of one record. Synchronous, O(1), never throws, never waits on I/O.
   * Validation (reject or clamp, counted in stats) runs on the sink's own turn, before the
   * record joins a batch, so the caller never pays for it.
   */
  write(record: UsageRecord): void {
    try {
      if (typeof record !== 'object' || record === null) return this.ledger.refuse(record, 'record is not an object');
      if (this.phase === 'closed') return this.writeLate(record);
      // Neither the database nor the spill file takes rows: memory must not grow without bound.
      if (this.spillRetry.failing && this.queue.atHardCap()) return this.drop(1, 'the database and the spill file both fail and memory holds twice maxQueue rows');
      if (this.queue.push(record)) this.router.schedulePump();
    } catch (err) {
      this.reporter.report(sinkReport.writeFailed(err));
    }
  }

  /**
   * Resolves when every record written before the call is committed or in the fsync'd spill
   * file (or, once close() ran, dropped and reported). Rejects with a UsageLogError `timeout`
   * (`reason: 'flush_timeout'`) when that has not happened within flushTimeoutMs: the database
   * and the spill file both fail. Those rows stay queued and retried; close() settles them.
   */
  flush(): Promise<void> {
    const target = this.queue.pushed;
    if (this.queue.durableBefore() >= target) return Promise.resolve();
    const waiter = this.durable(target);
    const ms = this.settings.flushTimeoutMs;
    return pTimeout(waiter.promise, {
      milliseconds: ms,
      customTimers: pTimeoutTimers(this.clock),
      fallback: () => {
        waiter.cancel();
        throw sinkReport.flushTimeout(ms, target - this.queue.durableBefore());
      },
    });
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
    for (const j of this.queue.spans) inJobs += j.rows.length;
    return {
      ...this.s,
      pending: this.queue.length + inJobs,
      spillSegments: this.spill.backlogSegments,
      foreignSpillDirs: this.spill.foreignDirs.length,
      foreignSpillSegments: this.spill.foreignDirs.reduce((n, d) => n + d.segments, 0),
      databaseUp: this.health.up,
    };
  }

  /** The spill and quarantine directory of this instance (for tools and tests). */
  get spillInstanceDir(): string {
    return this.spill.ownDir;
  }

  private async doClose(): Promise<void> {
    for (const t of this.timers) t.stop();
    this.phase = 'draining';
    const { closeTimeoutMs } = this.settings;
    const deadline = this.clock.now() + closeTimeoutMs;
    // Time kept back for writing what is left to the spill file.
    const drainBy = deadline - Math.min(SINK_LIMITS.closeSpillReserveMs, Math.floor(closeTimeoutMs / 5));
    // Not flush(): that one gives up at flushTimeoutMs; here the drain deadline decides.
    if (this.queue.durableBefore() < this.queue.pushed) await settlesBy(this.clock, this.durable(this.queue.pushed).promise, drainBy);
    // A scan under way (at construction, on recovery) may be about to queue dead writers' segments.
    if (this.adopter.adopting) await settlesBy(this.clock, this.adopter.adopting, drainBy);
    // Replay what earlier failures spilled, while the database answers and time is left.
    if (!this.health.up && this.spill.hasBacklog()) await settlesBy(this.clock, this.health.probeOnce(), drainBy);
    while (this.health.up && this.spill.hasBacklog() && this.clock.now() < drainBy) {
      if (!this.replayer.running) this.router.maybeReplay();
      const replay = this.replayer.running;
      if (!replay || !(await settlesBy(this.clock, replay, drainBy))) break;
    }
    // No await from here until the phase is `closed`: a record written in between would join a
    // queue nobody reads any more. From now on write() appends to the spill file itself.
    this.phase = 'closed';
    this.health.stop();
    // Spill retries waiting out a backoff try once more now (and count their rows lost if that fails).
    this.spillRetry.wakeAll();
    const leftovers = this.router.takeLeftovers();
    if (this.router.spillRuns.size) await settlesBy(this.clock, Promise.all([...this.router.spillRuns]), deadline);
    const timedOut = `close() timed out after ${closeTimeoutMs} ms while they were being written to the spill file`;
    for (const j of this.queue.spans) {
      if (j.kind !== 'spill' || j.lost) continue;
      j.lost = true;
      this.drop(j.rows.length, timedOut);
    }
    if (leftovers.length) await this.spillLeftovers(leftovers, deadline, timedOut);
    this.reporter.reportDrops('close()');
    await settlesBy(this.clock, this.spill.close().catch(() => {}), deadline);
    this.queue.releaseWaiters();
    // Releasing the connections goes on in the background past the deadline, if it must.
    await settlesBy(this.clock, this.target.close().catch(() => {}), deadline);
  }

  private async spillLeftovers(rows: UsageRow[], deadline: number, timedOut: string): Promise<void> {
    let late = false;
    const n = rows.length;
    const append = this.spill.append(rows).then(
      () => {
        this.s.spilled += n;
        if (late) this.ledger.undrop(n);
      },
      (err: unknown) => {
        if (!late) this.drop(n, `close() could not write them to the spill file: ${safeProviderText(err)}`);
      },
    );
    if (!(await settlesBy(this.clock, append, deadline))) {
      late = true;
      this.drop(n, timedOut);
    }
  }

  /** A promise that resolves once the rows before sequence `target` are committed or spilled. */
  private durable(target: number): { promise: Promise<void>; cancel(): void } {
    const waiter = this.queue.waitDurable(target);
    this.router.schedulePump();
    return waiter;
  }

  private writeLate(record: UsageRecord): void {
    try {
      const rows = this.ledger.prepare([record]);
      if (rows.length === 0) return;
      this.spill.appendSync(rows);
      this.s.spilled++;
    } catch (err) {
      this.s.dropped++;
      this.reporter.report(sinkReport.lateWriteFailed(err));
    }
  }

  /** Counts lost rows and reports them: at once, then at most once a second with the running count (at once after close). */
  private drop(n: number, why: string): void {
    this.ledger.drop(n, why, this.phase === 'closed');
  }
}
