import type { SplitInsertTarget } from './insert-splitting.js';

/**
 * Where rows end up: a database table reached through one idempotent batch insert (`insert`),
 * and the same statement with no rows (`probe`), which works when an insert would.
 */
export interface InsertTarget extends SplitInsertTarget {
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
  /** Releases the connections (the sink's own pool), or nothing (a pool the host owns). */
  close(): Promise<void>;
}
