import type { UsageRecord } from '@korean-together/core';
import { sinkReport, type SinkReporter } from './sink-reports.js';
import type { SinkCounters } from './sink-stats.js';
import { describeRejected, normalizeUsage, type UsageRow } from './usage-row.js';

/**
 * The sink's books: the cumulative row counts of stats(), and the rows that leave the normal
 * path (refused at validation, rejected by the database, lost), each counted, kept in the
 * quarantine file where it applies, and reported.
 */
export class RowLedger {
  readonly counts: SinkCounters = { written: 0, spilled: 0, replayed: 0, failed: 0, dropped: 0, clamped: 0, corrupt: 0, duplicates: 0 };

  constructor(
    private readonly reporter: SinkReporter,
    private readonly quarantineFile: { quarantine(entry: Record<string, unknown>): Promise<void> },
  ) {}

  /** Validates records into rows: clamped values are counted, refused records counted, quarantined and reported. */
  prepare(records: readonly UsageRecord[]): UsageRow[] {
    const rows: UsageRow[] = [];
    for (const r of records) {
      const n = normalizeUsage(r);
      if (!n.ok) {
        this.refuse(r, n.reason);
        continue;
      }
      if (n.clamped) this.counts.clamped++;
      rows.push(n.row);
    }
    return rows;
  }

  /** A record that is not a usage record at all. */
  refuse(record: unknown, reason: string): void {
    this.counts.failed++;
    this.quarantine({ reason: 'invalid_record', detail: reason, record: describeRejected(record) });
    this.reporter.report(sinkReport.recordRefused(reason));
  }

  /** A row the database refused on its own (insertSplitting isolated it). Resolves once it is in the quarantine file (or that failed and was reported). */
  reject(row: UsageRow, err: unknown): Promise<void> {
    this.counts.failed++;
    const { entry, error } = sinkReport.rowRejected(row, err);
    const kept = this.quarantine(entry);
    this.reporter.report(error);
    return kept;
  }

  /** `n` rows lost: counted, and reported at once or batched (see SinkReporter.dropped). */
  drop(n: number, why: string, reportNow: boolean): void {
    this.counts.dropped += n;
    this.reporter.dropped(n, why, reportNow);
  }

  /** `n` rows counted as lost reached the spill file after all. */
  undrop(n: number): void {
    this.counts.dropped -= n;
  }

  /** Appends to the quarantine file; a failure to do so is reported, never thrown. */
  quarantine(entry: Record<string, unknown>): Promise<void> {
    return this.quarantineFile.quarantine(entry).catch((err: unknown) => this.reporter.report(sinkReport.quarantineFailed(err)));
  }
}
