import { closeShares } from '@korean-together/core';

/**
 * How the shutdown timeout is shared out. After SIGTERM the server spends, at worst:
 *
 *   shutdownDeadlineMs    in-flight requests finish; then their AI calls are aborted
 * + IDLE_LINGER_MS        idle keep-alive connections go quiet (and aborted requests answer)
 * + the sink budget       the AI client closes (createAiClient({ closeTimeoutMs })): calls still
 *                         running get what the sinks' share leaves (core's closeShares: the sinks
 *                         get the last min(6 s, half)), then the usage sink's close(), which
 *                         drains and spills what the database did not take, inside that share
 *                         with a margin (no flush() comes first: close() drains anyway)
 * + SHUTDOWN_MARGIN_MS    the providers, the database pool and the exit itself
 *
 * and must be done by shutdownTimeoutMs, when the process exits whatever is still running. The
 * sink's budget is what is left, so the timeout can cut a hung database pool short but never the
 * sink before it has spilled its rows.
 */

/**
 * After the drain, idle keep-alive connections stay open until no request has arrived for this
 * long, in ms: a client in the middle of reusing one gets the 503 instead of a socket closed under
 * its request. Closing a connection always races a client that sends at that instant; a quiet
 * period makes that a client idle for half a second, not one under load.
 */
export const IDLE_LINGER_MS = 500;
/** Kept back from the sink budget for what runs after the AI client's close and for timer slack, in ms. */
export const SHUTDOWN_MARGIN_MS = 250;
/** The least the AI client's close (and within it the sink's close) may get, in ms. */
export const MIN_SINK_BUDGET_MS = 750;
/** How far the shutdown timeout must be above the deadline (1500 ms); also the default gap. */
export const MIN_SHUTDOWN_HEADROOM_MS = IDLE_LINGER_MS + MIN_SINK_BUDGET_MS + SHUTDOWN_MARGIN_MS;

export interface ShutdownBudget {
  deadlineMs: number;
  timeoutMs: number;
  /** The AI client's close starts at the latest this long after shutdown starts: deadlineMs + IDLE_LINGER_MS. */
  closeClientAfterMs: number;
  /** `createAiClient({ closeTimeoutMs })`: timeoutMs - deadlineMs - IDLE_LINGER_MS - SHUTDOWN_MARGIN_MS. */
  clientCloseTimeoutMs: number;
  /**
   * The usage sink's `flushTimeoutMs`: the same as its close. The client's close never flushes
   * before closing, so this bounds only a flush() the server makes itself.
   */
  sinkFlushTimeoutMs: number;
  /**
   * The usage sink's `closeTimeoutMs`: the client's share for sinks less a margin for timers and
   * the pool's release, min(1000, a fifth of it), so the sink has spilled before the client gives up.
   */
  sinkCloseTimeoutMs: number;
}

/** The default shutdown timeout for a deadline: the least that fits. */
export function defaultShutdownTimeoutMs(deadlineMs: number): number {
  return deadlineMs + MIN_SHUTDOWN_HEADROOM_MS;
}

/**
 * Why a deadline and a timeout do not fit together, naming them as the caller knows them
 * (environment variables or options); undefined when they fit.
 */
export function shutdownBudgetProblem(deadlineMs: number, timeoutMs: number, names: { deadline: string; timeout: string }): string | undefined {
  if (timeoutMs - deadlineMs >= MIN_SHUTDOWN_HEADROOM_MS) return undefined;
  return (
    `${names.timeout}: must be above ${names.deadline} by at least ${MIN_SHUTDOWN_HEADROOM_MS} ms (got ${timeoutMs} with ${names.deadline} ${deadlineMs}): ` +
    `after the deadline come ${IDLE_LINGER_MS} ms for idle connections, at least ${MIN_SINK_BUDGET_MS} ms for the usage sink to flush and spill, ` +
    `and ${SHUTDOWN_MARGIN_MS} ms for the rest; raise ${names.timeout} or lower ${names.deadline}`
  );
}

/** The budget of each shutdown step; call shutdownBudgetProblem first. */
export function shutdownBudget(deadlineMs: number, timeoutMs: number): ShutdownBudget {
  const clientCloseTimeoutMs = timeoutMs - deadlineMs - IDLE_LINGER_MS - SHUTDOWN_MARGIN_MS;
  const { sinksMs } = closeShares(clientCloseTimeoutMs);
  const sinkCloseTimeoutMs = sinksMs - Math.min(1_000, Math.floor(sinksMs / 5));
  return {
    deadlineMs,
    timeoutMs,
    closeClientAfterMs: deadlineMs + IDLE_LINGER_MS,
    clientCloseTimeoutMs,
    sinkFlushTimeoutMs: sinkCloseTimeoutMs,
    sinkCloseTimeoutMs,
  };
}
