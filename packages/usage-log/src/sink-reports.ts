import type { Clock } from '@korean-together/core';
import { safeProviderText } from '@korean-together/core/provider-kit';
import type { ForeignSpill } from './spill-ownership.js';
import { SINK_LIMITS } from './sink-options.js';
import { UsageLogError } from './usage-log-error.js';
import type { UsageRow } from './usage-row.js';

/**
 * What the Postgres and PGlite sinks tell `onError`, one builder per `reason`, so the engine
 * reads as what happens and the wording lives in one place. Messages carry no row content
 * beyond ids, no secrets, and database text only through safeProviderText.
 */
export const sinkReport = {
  databaseUnavailable(err: unknown): UsageLogError {
    const code = (err as { code?: unknown } | null)?.code;
    return new UsageLogError('unavailable', `usage-log: database write failed, rows go to the spill file until it answers again: ${safeProviderText(err)}`, {
      reason: 'database_unavailable',
      ...(typeof code === 'string' && { sqlstate: code }),
      cause: err,
    });
  },

  /** The report of a row the database refused, and the quarantine entry that keeps it for people to look at. */
  rowRejected(row: UsageRow, err: unknown): { error: UsageLogError; entry: Record<string, unknown> } {
    const e = err as { code?: string; constraint?: string; column?: string; message?: string };
    // The message only: `detail` can quote the whole failing row.
    const message = safeProviderText(e.message ?? err, 200);
    return {
      entry: { reason: 'rejected_by_database', sqlstate: e.code, constraint: e.constraint, column: e.column, message, row },
      error: new UsageLogError('invalid_request', `usage-log: the database rejected usage row ${row.id} (SQLSTATE ${e.code ?? '?'}): ${message}`, {
        reason: 'row_rejected',
        rows: 1,
        ...(typeof e.code === 'string' && { sqlstate: e.code }),
        retryable: false,
        cause: err,
      }),
    };
  },

  recordRefused(reason: string): UsageLogError {
    return new UsageLogError('invalid_request', `usage-log: record refused: ${reason}`, { reason: 'record_refused', rows: 1, retryable: false });
  },

  writeFailed(err: unknown): UsageLogError {
    return new UsageLogError('invalid_request', `usage-log: write() failed: ${safeProviderText(err)}`, { reason: 'write_failed', rows: 1, retryable: false, cause: err });
  },

  spillFailed(dir: string, err: unknown): UsageLogError {
    return new UsageLogError('unavailable', `usage-log: cannot append to the spill file in ${dir}: ${safeProviderText(err)}`, { reason: 'spill_failed', cause: err });
  },

  lateWriteFailed(err: unknown): UsageLogError {
    return new UsageLogError('unavailable', `usage-log: write() after close() could not reach the spill file: ${safeProviderText(err)}`, { reason: 'rows_dropped', rows: 1, cause: err });
  },

  rowsDropped(rows: number, why: string): UsageLogError {
    return new UsageLogError('unavailable', `usage-log: ${rows} usage row(s) lost (stats().dropped): ${why}`, { reason: 'rows_dropped', rows, retryable: false });
  },

  flushTimeout(ms: number, rows: number): UsageLogError {
    return new UsageLogError(
      'timeout',
      `usage-log: flush() gave up after ${ms} ms: up to ${rows} usage row(s) are neither committed nor in the spill file yet (both fail); they stay queued`,
      { reason: 'flush_timeout', rows, retryable: true },
    );
  },

  replayFailed(err: unknown): UsageLogError {
    return new UsageLogError('unavailable', `usage-log: spill replay failed: ${safeProviderText(err)}`, { reason: 'replay_failed', cause: err });
  },

  segmentReplayFailed(segment: string, attempt: number, err: unknown): UsageLogError {
    return new UsageLogError(
      'unavailable',
      `usage-log: cannot replay spill segment ${segment} (attempt ${attempt} of ${SINK_LIMITS.segmentReplayAttempts}): ${safeProviderText(err)}`,
      { reason: 'replay_failed', spillDir: segment, cause: err },
    );
  },

  segmentSetAside(segment: string, attempts: number, dest: string | null, err: unknown): UsageLogError {
    const where = dest ? `in ${dest}` : '(it could not be moved; this sink skips it)';
    return new UsageLogError('unavailable', `usage-log: spill segment ${segment} failed ${attempts} replays and is set aside ${where}: ${safeProviderText(err)}`, {
      reason: 'segment_set_aside',
      spillDir: segment,
      retryable: false,
      cause: err,
    });
  },

  corruptLines(segment: string, lines: number): UsageLogError {
    return new UsageLogError('invalid_request', `usage-log: ${lines} unreadable line(s) in spill segment ${segment} quarantined`, {
      reason: 'corrupt_spill_lines',
      rows: lines,
      spillDir: segment,
      retryable: false,
    });
  },

  foreignSpill(f: ForeignSpill): UsageLogError {
    const other = f.databaseId ? `another database (${f.databaseId})` : `a database at another address (${f.targetId}) that it never reached, so which database is not known`;
    return new UsageLogError(
      'unavailable',
      `usage-log: spill directory ${f.name} holds ${f.segments} segment(s) of usage rows a dead writer left for the same table in ${other}; they are not replayed into this database (stats().foreignSpillSegments). Point a sink at that database with this spillDir to replay them`,
      { reason: 'foreign_spill', spillDir: f.name, retryable: false },
    );
  },

  scanFailed(err: unknown): UsageLogError {
    return new UsageLogError('unavailable', `usage-log: cannot scan the spill directory: ${safeProviderText(err)}`, { reason: 'spill_scan_failed', cause: err });
  },

  quarantineFailed(err: unknown): UsageLogError {
    return new UsageLogError('unavailable', `usage-log: cannot write the quarantine file: ${safeProviderText(err)}`, { reason: 'quarantine_failed', cause: err });
  },
};

/**
 * Hands reports to onError (a hook that throws never breaks the sink), and batches reports of
 * lost rows: the first at once, then at most one per SINK_LIMITS.dropReportIntervalMs with the
 * running count, and whatever is left when the caller says so (close()).
 */
export class SinkReporter {
  private unreportedDrops = 0;
  private lastDropReport = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly onError: ((error: UsageLogError) => void) | undefined,
    private readonly clock: Clock,
  ) {}

  report(error: UsageLogError): void {
    if (!this.onError) return;
    try {
      this.onError(error);
    } catch {
      // A failing error hook must not break the sink.
    }
  }

  /** `rows` rows are lost because of `why`: reported now unless a report went out within the interval (`now` forces it). */
  dropped(rows: number, why: string, now = false): void {
    this.unreportedDrops += rows;
    if (now || this.clock.now() - this.lastDropReport >= SINK_LIMITS.dropReportIntervalMs) this.reportDrops(why);
  }

  /** Reports the lost rows not reported yet, if any. */
  reportDrops(why: string): void {
    if (this.unreportedDrops === 0) return;
    const rows = this.unreportedDrops;
    this.unreportedDrops = 0;
    this.lastDropReport = this.clock.now();
    this.report(sinkReport.rowsDropped(rows, why));
  }
}
