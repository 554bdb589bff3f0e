import { AiError, isAiError } from '@korean-together/core';

// What a failed database step means for the caller, decided by what happened (did the server
// answer, and with which SQLSTATE; or did no answer come at all), never by the driver's message,
// which can carry the database's address, its user, or the refused value.

interface ServerAnswer {
  code: string;
  constraint?: string;
}

/** A Postgres error the server sent (node-postgres and PGlite both carry `severity` and a 5-character SQLSTATE `code`). */
function serverAnswer(e: unknown): ServerAnswer | undefined {
  const o = e as { code?: unknown; severity?: unknown; constraint?: unknown } | null;
  if (!o || typeof o !== 'object' || typeof o.code !== 'string' || !/^[0-9A-Z]{5}$/.test(o.code) || typeof o.severity !== 'string') return undefined;
  return { code: o.code, ...(typeof o.constraint === 'string' && { constraint: o.constraint }) };
}

/** The error under any AiError wrappers (usage-log wraps driver errors in one, with the driver's message). */
function rootCause(e: unknown): unknown {
  let cur = e;
  for (let i = 0; i < 10 && isAiError(cur) && cur.cause !== undefined; i++) cur = cur.cause;
  return cur;
}

/**
 * Turns anything a database step threw into an AiError with a message of our own: `invalid_request`
 * (400) when a row was refused for what it holds, `unavailable` (503, retryable) when the database
 * could not be reached or did not answer in time, `invalid_config` (500) when it refused the
 * statement itself (permissions, a missing table). AiErrors the server raised itself pass through.
 */
export function databaseError(e: unknown, what: string): AiError {
  const root = rootCause(e);
  if (isAiError(root)) return root;
  const answer = serverAnswer(root);
  if (!answer) {
    // No answer from the server: connection refused or lost, no free connection in time, or a
    // query with no reply within the query timeout. A Node system error code (ECONNREFUSED) is safe to show.
    const sys = (root as { code?: unknown } | null)?.code;
    const detail = typeof sys === 'string' && /^E[A-Z]+$/.test(sys) ? ` (${sys})` : '';
    return new AiError('unavailable', `database unavailable while ${what}: no answer or connection lost${detail}`, { retryable: true, cause: root });
  }
  const { code } = answer;
  if (code === '23503' && answer.constraint?.includes('activity_id')) {
    return new AiError('invalid_request', 'activityId: no such activity (it must exist in activities)', { retryable: false, cause: root });
  }
  if (code.startsWith('22') || code.startsWith('23')) {
    return new AiError('invalid_request', `the database refused the data while ${what} (SQLSTATE ${code})`, { retryable: false, cause: root });
  }
  // 57014 statement timeout, 08 connection exceptions, 53 insufficient resources, 57P admin or crash shutdown, 40 serialization / deadlock.
  if (code === '57014' || /^(08|53|57P|40|58)/.test(code)) {
    const why = code === '57014' ? 'the statement ran past the statement timeout' : 'the database could not run it';
    return new AiError('unavailable', `database unavailable while ${what}: ${why} (SQLSTATE ${code})`, { retryable: true, cause: root });
  }
  return new AiError('invalid_config', `the database refused the statement while ${what} (SQLSTATE ${code})`, { retryable: false, cause: root });
}

/** Runs one database step, turning its failure into `databaseError(e, what)`. */
export async function databaseStep<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw databaseError(e, what);
  }
}
