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

/** The cumulative counts a sink keeps (the UsageSinkStats fields that are not read from its parts). */
export type SinkCounters = Pick<UsageSinkStats, 'written' | 'spilled' | 'replayed' | 'failed' | 'dropped' | 'clamped' | 'corrupt' | 'duplicates'>;
