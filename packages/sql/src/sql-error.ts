/** What went wrong, for code to branch on (never parse the message). */
export type SqlErrorCode =
  /** A schema or table name is not a plain identifier. */
  | 'invalid_identifier'
  /** An option is missing or malformed (no connection string or client, unknown client type). */
  | 'invalid_option'
  /** A migration recorded as applied has a different checksum than the file shipped now. */
  | 'checksum_mismatch'
  /** A migration failed to apply; `cause` is the database error. Nothing was committed. */
  | 'migration_failed';

/**
 * Errors of @korean-together/sql. This package has no runtime dependency on the core, so it
 * has its own error class; `code` says what failed, `migrationId` which migration.
 */
export class SqlError extends Error {
  readonly code: SqlErrorCode;
  readonly migrationId: string | undefined;

  constructor(code: SqlErrorCode, message: string, options: { migrationId?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SqlError';
    this.code = code;
    this.migrationId = options.migrationId;
  }
}
