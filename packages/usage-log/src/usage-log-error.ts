import { AiError, type AiErrorCode, type AiErrorOptions } from '@korean-together/core';

/**
 * What a sink reports through `onError`, as a field to branch on (never the message text):
 * - `database_unavailable`: the database failed (connection, server unavailable): rows go to the spill file
 * - `row_rejected`: the database refused one row (it is quarantined; `sqlstate` says why)
 * - `record_refused`: a record was invalid at write() (quarantined)
 * - `spill_failed`: appending to the spill file failed (reported once per failing streak; rows kept and retried)
 * - `rows_dropped`: rows lost (`rows` says how many; also counted in stats().dropped)
 * - `flush_timeout`: flush() gave up at its deadline with `rows` rows neither committed nor spilled
 * - `foreign_spill`: a dead writer's spill directory is for another database or table (`spillDir` names it; reported once)
 * - `replay_failed`, `segment_set_aside`, `corrupt_spill_lines`: a spill segment could not be replayed (whole or in part)
 * - `quarantine_failed`, `spill_scan_failed`, `pool_error`, `write_failed`: I/O the sink could not do, or a bug it contained
 */
export type UsageLogErrorReason =
  | 'database_unavailable'
  | 'row_rejected'
  | 'record_refused'
  | 'spill_failed'
  | 'rows_dropped'
  | 'flush_timeout'
  | 'foreign_spill'
  | 'replay_failed'
  | 'segment_set_aside'
  | 'corrupt_spill_lines'
  | 'quarantine_failed'
  | 'spill_scan_failed'
  | 'pool_error'
  | 'write_failed';

export interface UsageLogErrorOptions extends AiErrorOptions {
  reason: UsageLogErrorReason;
  /** How many rows the report is about (dropped, not yet durable, in a foreign directory...). */
  rows?: number;
  /** SQLSTATE of the database error, when there was one. */
  sqlstate?: string;
  /** Name of the spill directory (`w-...`) or segment (`w-.../seg-...`) concerned, relative to spillDir. */
  spillDir?: string;
}

/** An AiError with a structured `reason` (and counts): what every Postgres / PGlite sink reports. */
export class UsageLogError extends AiError {
  readonly reason: UsageLogErrorReason;
  readonly rows: number | undefined;
  readonly sqlstate: string | undefined;
  readonly spillDir: string | undefined;

  constructor(code: AiErrorCode, message: string, options: UsageLogErrorOptions) {
    super(code, message, options);
    this.name = 'UsageLogError';
    this.reason = options.reason;
    this.rows = options.rows;
    this.sqlstate = options.sqlstate;
    this.spillDir = options.spillDir;
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      reason: this.reason,
      ...(this.rows !== undefined && { rows: this.rows }),
      ...(this.sqlstate !== undefined && { sqlstate: this.sqlstate }),
      ...(this.spillDir !== undefined && { spillDir: this.spillDir }),
    };
  }
}
