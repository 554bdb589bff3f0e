import { safeProviderText } from '@korean-together/core/provider-kit';
import type { DatabaseHealth } from './database-health.js';
import type { InsertTarget } from './insert-target.js';
import { insertSplitting } from './insert-splitting.js';
import type { RecordQueue, SequenceSpan } from './record-queue.js';
import type { Replayer } from './replayer.js';
import type { RowLedger } from './row-ledger.js';
import type { SinkSettings } from './sink-options.js';
import type { SpillAdopter } from './spill-adopter.js';
import type { SpillRetry } from './spill-retry.js';
import type { UsageRow } from './usage-row.js';

/**
 * Where a sink is in its life: `open`; `draining` from close() until its drain deadline
 * (records are still sent as usual, partial batches at once); `closed` from then on (nothing is
 * sent any more, write() appends to the spill file itself).
 */
export type SinkPhase = 'open' | 'draining' | 'closed';

/** A batch taken from the queue: on its way to the database (`db`) or to the spill file. */
export interface Job extends SequenceSpan {
  kind: 'db' | 'spill';
  rows: UsageRow[];
  /** close() took its rows to the spill file while the insert was in flight: its outcome no longer counts. */
  abandoned: boolean;
  /** close() gave up waiting for its spill append: its rows count as dropped unless the append succeeds after all. */
  lost: boolean;
}

export interface BatchRouterOptions {
  settings: SinkSettings;
  target: InsertTarget;
  queue: RecordQueue<Job>;
  ledger: RowLedger;
  health: DatabaseHealth;
  spillRetry: SpillRetry;
  replayer: Replayer;
  adopter: SpillAdopter;
  phase(): SinkPhase;
}

/**
 * Where the sink's batches go: taken from the queue to the database (at most `concurrency`
 * inserts in flight, the replay included), to the spill file while the database is down or
 * memory is past maxQueue, and back to the database when it answers while they wait on a
 * failing disk. Every batch stays tracked in the queue until it is durable.
 */
export class BatchRouter {
  /** Inserts in flight, the replay included: at most `concurrency`. */
  private dbInFlight = 0;
  /** Spill appends under way (close() waits for them). */
  readonly spillRuns = new Set<Promise<void>>();
  /** One queue-to-disk append at a time: later rows coalesce into the next one (one fsync per group). */
  private queueSpillActive = false;
  private tick = false;
  private pumpScheduled = false;

  constructor(private readonly o: BatchRouterOptions) {}

  private get queue(): RecordQueue<Job> {
    return this.o.queue;
  }

  /** The flush interval passed: partial batches go out now. */
  onTick(): void {
    this.tick = true;
    this.pump();
  }

  /** Runs pump() on the next turn (once, however often it is asked). */
  schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Sends what is due: whole batches always, partial ones on the tick, during close() and for a flush(). */
  pump(): void {
    const phase = this.o.phase();
    if (phase === 'closed') return;
    const force = this.tick || phase === 'draining' || this.queue.flushRequested();
    this.tick = false;
    if (!this.o.health.up) {
      if (this.queue.length > 0 && (force || this.queue.length >= this.o.settings.batchSize)) this.spillQueued(this.queue.chunkCount);
      return;
    }
    // The backlog first: under sustained load live batches would otherwise take every slot and
    // the spill would never drain. Replay takes one slot, one segment at a time.
    this.maybeReplay();
    while (this.dbInFlight < this.o.settings.concurrency && this.queue.chunkCount > 0) {
      if (!this.queue.headIsFull() && !force) break;
      this.startDb(this.take(1));
    }
    // The database is slower than the writers: divert the oldest rows to disk, keep memory bounded.
    if (this.queue.overMaxQueue()) this.spillQueued(this.queue.chunksAboveHalf());
  }

  private take(nChunks: number): Job {
    const { records, start, end } = this.queue.take(nChunks);
    const job: Job = { kind: 'db', rows: this.o.ledger.prepare(records), start, end, abandoned: false, lost: false };
    this.queue.track(job);
    return job;
  }

  private startDb(job: Job): void {
    this.dbInFlight++;
    void this.commit(job.rows, 'written', () => job.abandoned).then((remaining) => {
      this.dbInFlight--;
      if (remaining && !job.abandoned) {
        // The same sequence range, now owed by the spill.
        job.rows = remaining;
        this.runSpill(job);
        this.next();
      } else {
        this.finish(job);
      }
    });
  }

  /** The job is durable (or close() took it over): flush() waiters it held back may go, and what is due goes out. */
  private finish(job: Job): void {
    this.queue.release(job);
    this.next();
  }

  private next(): void {
    this.queue.settle();
    this.schedulePump();
  }

  /**
   * Sends rows to the database and counts, quarantines and reports the outcome. Resolves to the
   * rows not committed when the database failed (it is then marked down), else undefined.
   */
  async commit(rows: readonly UsageRow[], counter: 'written' | 'replayed', stop?: () => boolean): Promise<UsageRow[] | undefined> {
    const out = await insertSplitting(rows, this.o.target, stop).catch((error: unknown) => ({ committed: 0, inserted: 0, rejected: [], remaining: [...rows], error }));
    this.o.ledger.counts[counter] += out.committed;
    this.o.ledger.counts.duplicates += out.committed - out.inserted;
    // A rejected row's batch is durable once the row is in the quarantine file: flush() and the replay wait for that.
    await Promise.all(out.rejected.map(({ row, error }) => this.o.ledger.reject(row, error)));
    if (out.committed > 0 && !this.o.adopter.identityResolved) this.o.adopter.adopt();
    if (out.remaining.length === 0 || stop?.()) return undefined;
    this.o.health.markDown(out.error);
    return out.remaining;
  }

  private spillQueued(nChunks: number): void {
    if (this.queueSpillActive || nChunks === 0) return;
    this.queueSpillActive = true;
    this.runSpill(this.take(nChunks), () => {
      this.queueSpillActive = false;
    });
  }

  private runSpill(job: Job, done?: () => void): void {
    job.kind = 'spill';
    this.queue.track(job);
    let backToDb = false;
    const run = this.o.spillRetry.append(job.rows).then((outcome) => {
      if (outcome.kind === 'appended') {
        this.o.ledger.counts.spilled += job.rows.length;
        // close() had given these up for lost; they made it after all.
        if (job.lost) this.o.ledger.undrop(job.rows.length);
      } else if (outcome.kind === 'to_database') {
        backToDb = true;
      } else if (!job.lost) {
        job.lost = true;
        this.o.ledger.drop(job.rows.length, `close() could not write them to the spill file: ${safeProviderText(outcome.error)}`, true);
      }
    });
    const tracked = run.finally(() => {
      this.spillRuns.delete(tracked);
      done?.();
      if (!backToDb) return this.finish(job);
      job.kind = 'db';
      this.startDb(job);
      this.next();
    });
    this.spillRuns.add(tracked);
  }

  /** Starts the replay of one spill segment when the database is up, a slot is free and one is due. */
  maybeReplay(): void {
    if (!this.o.health.up || this.o.phase() === 'closed' || this.dbInFlight >= this.o.settings.concurrency || !this.o.replayer.due()) return;
    this.dbInFlight++;
    void this.o.replayer.start().finally(() => {
      this.dbInFlight--;
      this.schedulePump();
    });
  }

  /**
   * Whatever is still in memory or in flight to the database, for the spill file. A batch in
   * flight may still commit: its replay is then a no-op (ON CONFLICT DO NOTHING).
   */
  takeLeftovers(): UsageRow[] {
    const leftovers: UsageRow[] = [];
    for (const j of [...this.queue.spans]) {
      if (j.kind !== 'db') continue;
      j.abandoned = true;
      this.queue.release(j);
      leftovers.push(...j.rows);
    }
    for (const chunk of this.queue.takeAll()) leftovers.push(...this.o.ledger.prepare(chunk));
    return leftovers;
  }
}
