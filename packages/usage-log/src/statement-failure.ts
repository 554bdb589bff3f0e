/**
 * Where a failed statement puts the trouble, judged by what happened (not by a list of row-error codes):
 * - `database`: the statement got no answer (connection refused, reset or timed out: no SQLSTATE),
 *   the session ended (severity FATAL / PANIC), or the server said it cannot serve now: SQLSTATE
 *   class 08 (connection), 53 (resources: disk full, out of memory, too many connections), 57
 *   (operator intervention: admin shutdown, cannot connect now, statement cancelled), 58 (system
 *   I/O), XX (internal), or 40 (transaction rolled back for concurrency: try again later). The
 *   rows are kept and retried.
 * - `answered`: the server answered this statement with an error on a live session. The rows or
 *   the target are at fault; the caller tells which by sending the same statement with no rows
 *   (it fails too: the table, a grant or a statement-level rule is broken, keep the rows; it
 *   works: the rows are at fault, split the batch).
 */
export function classifyFailure(err: unknown): 'database' | 'answered' {
  const e = err as { code?: unknown; severity?: unknown } | null;
  const code = e?.code;
  // An ErrorResponse carries both a SQLSTATE and a severity; a socket error (EPIPE...) has no severity.
  if (typeof code !== 'string' || !SQLSTATE.test(code) || typeof e?.severity !== 'string') return 'database';
  if (e.severity === 'FATAL' || e.severity === 'PANIC') return 'database';
  return SERVER_TROUBLE.has(code.slice(0, 2)) ? 'database' : 'answered';
}

const SQLSTATE = /^[0-9A-Z]{5}$/;
const SERVER_TROUBLE = new Set(['08', '40', '53', '57', '58', 'XX']);

/** Whose trouble a failed statement is: the database's (keep the rows, retry), the target's (table, grants: keep the rows), or the rows' own. */
export type FailureCause = 'database' | 'target' | 'rows';

/**
 * Whose trouble a statement that failed with `err` is. `database` when classifyFailure says so.
 * Otherwise the server answered it with an error on a live session, and `emptyStatement` (the
 * same statement with no rows) tells: it works, so the table, the grants and the connection are
 * fine and the rows are at fault (`rows`); it fails too (`target`). Asked again for every
 * failure, so a table that breaks in the middle of a split never gets good rows refused.
 *
 * One case cannot be told that way: a statement inside the caller's transaction aborts it, and
 * the empty statement then fails with 25P02 whatever the target's state. There the SQLSTATE
 * class decides: 22 (data exception) and 23 (integrity violation) are the rows'.
 */
export async function failureCause(err: unknown, emptyStatement: () => Promise<unknown>): Promise<FailureCause> {
  if (classifyFailure(err) === 'database') return 'database';
  try {
    await emptyStatement();
    return 'rows';
  } catch (checkErr) {
    if (sqlstate(checkErr) !== IN_FAILED_TRANSACTION) return 'target';
    return /^2[23]/.test(sqlstate(err) ?? '') ? 'rows' : 'target';
  }
}

const IN_FAILED_TRANSACTION = '25P02';

function sqlstate(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
