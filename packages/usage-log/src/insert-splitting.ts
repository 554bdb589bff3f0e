import { failureCause } from './statement-failure.js';
import type { UsageRow } from './usage-row.js';

/** What insertSplitting needs of the database: the batch insert and the same statement with no rows. */
export interface SplitInsertTarget {
  /** Inserts `rows` in one statement; resolves to how many were new (the rest were already there). */
  insert(rows: readonly UsageRow[]): Promise<number>;
  /** The insert statement with no rows: resolves when the table, the grants and the connection are fine. */
  probe(): Promise<void>;
}

export interface SplitOutcome {
  /** Rows committed: new ones, and ones the table already had. */
  committed: number;
  /** Of those, the new ones (the rest are duplicates: a replay of rows that had committed before a failure). */
  inserted: number;
  /** Rows the database refused on their own, each with its error (to quarantine). */
  rejected: { row: UsageRow; error: unknown }[];
  /** Rows neither committed nor rejected, oldest first: the database failed (`error`), or `stop()` said to stop. */
  remaining: UsageRow[];
  /** Why the database could not take `remaining`; undefined when it took everything or `stop()` ended the work. */
  error?: unknown;
}

/**
 * Inserts `rows`, isolating the ones the database refuses. When the server answers a statement
 * with an error, the same statement with no rows tells whose fault it is (failureCause): if the
 * rows', the part is split in halves until the bad row stands alone; it is rejected and the rest
 * commit. If the database's or the target's, the work stops and what is left is `remaining`,
 * with the `error`. Touches no state of its own: the caller counts and reports the outcome.
 *
 * `stop()` is asked before each statement and after each one settles; once it says true the
 * work ends (nothing after is counted), and every row not counted by then is `remaining`.
 */
export async function insertSplitting(rows: readonly UsageRow[], target: SplitInsertTarget, stop: () => boolean = () => false): Promise<SplitOutcome> {
  const outcome: SplitOutcome = { committed: 0, inserted: 0, rejected: [], remaining: [] };
  const stack: (readonly UsageRow[])[] = rows.length > 0 ? [rows] : [];
  while (stack.length > 0) {
    const part = stack.pop()!;
    if (stop()) return leftOver(outcome, part, stack);
    try {
      const inserted = await target.insert(part);
      if (stop()) return leftOver(outcome, part, stack);
      outcome.committed += part.length;
      outcome.inserted += inserted;
    } catch (err) {
      if (stop()) return leftOver(outcome, part, stack);
      if ((await failureCause(err, () => target.probe())) !== 'rows') return leftOver(outcome, part, stack, err);
      if (part.length > 1) {
        const mid = part.length >> 1;
        stack.push(part.slice(mid), part.slice(0, mid));
        continue;
      }
      outcome.rejected.push({ row: part[0]!, error: err });
    }
  }
  return outcome;
}

function leftOver(outcome: SplitOutcome, part: readonly UsageRow[], stack: (readonly UsageRow[])[], error?: unknown): SplitOutcome {
  outcome.remaining = [part, ...stack.reverse()].flat();
  if (error !== undefined) outcome.error = error;
  return outcome;
}
