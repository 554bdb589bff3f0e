import { backoffDelayMs, type BackoffOptions, type Clock, type RandomSource } from '@korean-together/core';
import { SINK_LIMITS } from './sink-options.js';
import { sinkReport, type SinkReporter } from './sink-reports.js';
import { segmentName } from './spill-layout.js';
import type { Segment, SpillStore } from './spill.js';
import type { UsageRow } from './usage-row.js';

export interface ReplayerOptions {
  spill: SpillStore;
  /** Rows per insert statement. */
  batchSize: number;
  clock: Clock;
  /** Core's backoff after a segment fails to replay (unreadable, undeletable). */
  backoff: BackoffOptions;
  random?: RandomSource;
  /** Commits rows read from the spill file; resolves to false when the database failed (it is then marked down and the replay stops). */
  commit(rows: readonly UsageRow[]): Promise<boolean>;
  /** True once close() is past its drain deadline: a replay under way stops between batches. */
  stopped(): boolean;
  reporter: SinkReporter;
  /** A torn spill line was moved to the quarantine file (counted in stats().corrupt). */
  onCorrupt(): void;
}

/**
 * Replays spill segments into the database, one at a time, oldest first. A segment is removed
 * only once every row in it is committed or quarantined; its torn lines are quarantined then
 * (not earlier, so an interrupted replay does not record them twice). A segment that cannot be
 * read or removed waits out core's backoff while the others go first, and after
 * SINK_LIMITS.segmentReplayAttempts failures is set aside in `quarantine/segments/`.
 */
export class Replayer {
  private current: Promise<void> | undefined;
  private readonly failures = new Map<string, number>();
  /** Failed replays in a row, for the backoff; reset by a replay that works. */
  private failedInRow = 0;
  private notBefore = 0;

  constructor(private readonly o: ReplayerOptions) {}

  /** The replay under way, if any. */
  get running(): Promise<void> | undefined {
    return this.current;
  }

  /** Whether a replay could start now: a backlog waits, none is running, and no backoff is under way. */
  due(): boolean {
    return !this.current && this.o.spill.hasBacklog() && this.o.clock.now() >= this.notBefore;
  }

  /** Replays the oldest segment. The promise never rejects: failures are reported. */
  start(): Promise<void> {
    this.current ??= this.replayOne()
      .catch((err: unknown) => this.o.reporter.report(sinkReport.replayFailed(err)))
      .finally(() => {
        this.current = undefined;
      });
    return this.current;
  }

  private async replayOne(): Promise<void> {
    const seg = await this.o.spill.nextSegment();
    if (!seg) return;
    try {
      await this.replaySegment(seg);
    } catch (err) {
      await this.segmentFailed(seg, err);
      return;
    }
    this.failures.delete(seg.path);
    this.failedInRow = 0;
  }

  private async replaySegment(seg: Segment): Promise<void> {
    const data = await this.o.spill.readSegment(seg);
    if (!data) return;
    for (let i = 0; i < data.rows.length; i += this.o.batchSize) {
      if (this.o.stopped()) return;
      if (!(await this.o.commit(data.rows.slice(i, i + this.o.batchSize)))) return;
    }
    const name = segmentName(seg.path);
    for (const bad of data.corrupt) {
      this.o.onCorrupt();
      await this.o.spill.quarantine({ reason: 'corrupt_spill_line', segment: name, line: bad.line, raw: bad.raw.slice(0, 2000) }).catch(() => {});
    }
    if (data.corrupt.length) this.o.reporter.report(sinkReport.corruptLines(name, data.corrupt.length));
    await this.o.spill.removeSegment(seg);
  }

  private async segmentFailed(seg: Segment, err: unknown): Promise<void> {
    const n = (this.failures.get(seg.path) ?? 0) + 1;
    this.notBefore = this.o.clock.now() + backoffDelayMs(++this.failedInRow, this.o.backoff, this.o.random ?? Math.random);
    if (n < SINK_LIMITS.segmentReplayAttempts) {
      this.failures.set(seg.path, n);
      this.o.spill.defer(seg);
      this.o.reporter.report(sinkReport.segmentReplayFailed(segmentName(seg.path), n, err));
      return;
    }
    this.failures.delete(seg.path);
    const dest = await this.o.spill.setAside(seg);
    this.o.reporter.report(sinkReport.segmentSetAside(segmentName(seg.path), n, dest, err));
  }
}
