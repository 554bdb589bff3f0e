import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AiError, systemClock, type BackoffOptions, type Clock } from '@korean-together/core';
import type { UsageLogError } from './usage-log-error.js';

/**
 * Every default of `createPostgresSink` and `createPgliteSink`, written once: the code reads
 * them here, the option docs point here, and a test holds the README's option table to them.
 * `flushTimeoutMs` has no default of its own: it is `closeTimeoutMs` (client.close() does not
 * flush a sink it closes: close() drains, so the two deadlines never add up).
 */
export const SINK_DEFAULTS = Object.freeze({
  schema: 'public',
  table: 'ai_usage_log',
  batchSize: 1000,
  flushIntervalMs: 250,
  maxQueue: 50_000,
  concurrency: 2,
  /** `<os tmpdir>/korean-together-usage-spill`, read when a sink is made. */
  get spillDir(): string {
    return join(tmpdir(), 'korean-together-usage-spill');
  },
  segmentMaxRows: 10_000,
  /**
   * 5 s: within it close() drains for 4 s, then spills what the database did not take. It nests in
   * core's `client.close()` defaults: the sinks' share there is `SINK_CLOSE_SHARE_MS` (6 s).
   */
  closeTimeoutMs: 5_000,
  retryInitialDelayMs: 250,
  retryMaxDelayMs: 10_000,
  staleAfterMs: 60_000,
  adoptIntervalMs: 30_000,
  /** Core's clock: `Date.now`, Node's timers, background ones unref'd. */
  clock: systemClock as Clock,
  connectionTimeoutMillis: 5_000,
  queryTimeoutMs: 15_000,
  applicationName: 'korean-together-usage-log',
} as const);

/** Bounds and constants of the engine that are not options (the README names some of them). */
export const SINK_LIMITS = Object.freeze({
  /** Heartbeats of a spill owner file per staleAfterMs window: one late timer must not make a live writer look dead. */
  heartbeatsPerStaleWindow: 6,
  /** The shortest heartbeat interval, ms. */
  minHeartbeatMs: 1_000,
  /** The smallest staleAfterMs accepted: six heartbeats of at least a second. */
  minStaleAfterMs: 6_000,
  /** Failed replays of one spill segment (unreadable, undeletable) before it is set aside in `quarantine/segments/`. */
  segmentReplayAttempts: 5,
  /** While rows keep being lost, `rows_dropped` is reported at most this often, ms. */
  dropReportIntervalMs: 1_000,
  /** close() keeps back min(this, closeTimeoutMs / 5) ms of its time for writing what is left to the spill file. */
  closeSpillReserveMs: 2_000,
} as const);

export interface BufferedSinkOptions {
  /** Rows per INSERT statement (and per spill append group). Default {@link SINK_DEFAULTS.batchSize}. */
  batchSize?: number;
  /** Longest time a row waits in memory before its (partial) batch is sent, in milliseconds. Default {@link SINK_DEFAULTS.flushIntervalMs}. */
  flushIntervalMs?: number;
  /**
   * Rows held in memory before older ones are diverted to the spill file. Default
   * {@link SINK_DEFAULTS.maxQueue}. While neither the database nor the spill file accepts rows,
   * memory is capped at twice this: rows beyond it are dropped (counted in `dropped`, reported).
   */
  maxQueue?: number;
  /** Batches in flight at once (also the pool size of a sink that opens its own pool). Default {@link SINK_DEFAULTS.concurrency}. */
  concurrency?: number;
  /**
   * Directory for spill and quarantine files. Default {@link SINK_DEFAULTS.spillDir}. Survives
   * restarts: a new process replays what a dead one left for the same database and table.
   */
  spillDir?: string;
  /** Rows per spill segment file. Default {@link SINK_DEFAULTS.segmentMaxRows}. */
  segmentMaxRows?: number;
  /**
   * close() finishes within this many milliseconds: rows not committed by then go to the spill
   * file (or, when it fails too, are counted in `dropped`). Default {@link SINK_DEFAULTS.closeTimeoutMs}.
   */
  closeTimeoutMs?: number;
  /**
   * flush() settles within this many milliseconds: when the rows are neither committed nor
   * spilled by then (the database and the spill file both fail), it rejects with a UsageLogError
   * `timeout` (`reason: 'flush_timeout'`, `rows`); the rows stay queued and retried. Default: closeTimeoutMs.
   */
  flushTimeoutMs?: number;
  /**
   * First wait before probing an unreachable database (or retrying a failed spill append or
   * replay) again, in milliseconds; core's jittered backoff doubles it up to `retryMaxDelayMs`.
   * Default {@link SINK_DEFAULTS.retryInitialDelayMs}.
   */
  retryInitialDelayMs?: number;
  /** Longest wait between those retries, in milliseconds. Default {@link SINK_DEFAULTS.retryMaxDelayMs}. */
  retryMaxDelayMs?: number;
  /**
   * A spill directory written from another host whose writer has not shown a heartbeat for this
   * long (ms) is adopted. On the same host the writer's pid decides instead. The heartbeat runs
   * six times per window, at least a second apart, so at least {@link SINK_LIMITS.minStaleAfterMs}.
   * Default {@link SINK_DEFAULTS.staleAfterMs}.
   */
  staleAfterMs?: number;
  /** How often spill directories of dead writers are looked for, in milliseconds. Default {@link SINK_DEFAULTS.adoptIntervalMs}. */
  adoptIntervalMs?: number;
  /**
   * Time and timers of the sink (core's Clock): flush ticks, probes, retries, heartbeats and
   * scans run on its background timers; flush() and close() deadlines on its ordinary ones.
   * Default {@link SINK_DEFAULTS.clock}.
   */
  clock?: Clock;
  /** Told about every problem the sink handles itself (database down, a row rejected, a spill error), with a structured `reason`. Exceptions it throws are ignored. */
  onError?: (error: UsageLogError) => void;
}

/** The options with every default filled in and every value checked. */
export interface SinkSettings {
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly maxQueue: number;
  readonly concurrency: number;
  readonly spillDir: string;
  readonly segmentMaxRows: number;
  readonly closeTimeoutMs: number;
  readonly flushTimeoutMs: number;
  /** retryInitialDelayMs and retryMaxDelayMs, as core's backoff takes them. */
  readonly backoff: BackoffOptions;
  readonly staleAfterMs: number;
  /** How often the spill owner file is touched. */
  readonly heartbeatMs: number;
  readonly adoptIntervalMs: number;
  readonly clock: Clock;
  readonly onError: ((error: UsageLogError) => void) | undefined;
}

/** Fills in the defaults and checks every value; a bad one throws AiError `invalid_config` naming it. */
export function sinkSettings(options: BufferedSinkOptions): SinkSettings {
  const closeTimeoutMs = positiveInt(options.closeTimeoutMs, SINK_DEFAULTS.closeTimeoutMs, 'closeTimeoutMs');
  const staleAfterMs = positiveInt(options.staleAfterMs, SINK_DEFAULTS.staleAfterMs, 'staleAfterMs');
  if (staleAfterMs < SINK_LIMITS.minStaleAfterMs) {
    // Fewer than six heartbeats per window: one late timer would make a live writer look dead.
    throw new AiError('invalid_config', `usage-log: staleAfterMs must be at least ${SINK_LIMITS.minStaleAfterMs} ms (six heartbeats), got ${staleAfterMs}`, { retryable: false });
  }
  return {
    batchSize: positiveInt(options.batchSize, SINK_DEFAULTS.batchSize, 'batchSize'),
    flushIntervalMs: positiveInt(options.flushIntervalMs, SINK_DEFAULTS.flushIntervalMs, 'flushIntervalMs'),
    maxQueue: positiveInt(options.maxQueue, SINK_DEFAULTS.maxQueue, 'maxQueue'),
    concurrency: positiveInt(options.concurrency, SINK_DEFAULTS.concurrency, 'concurrency'),
    spillDir: options.spillDir ?? SINK_DEFAULTS.spillDir,
    segmentMaxRows: positiveInt(options.segmentMaxRows, SINK_DEFAULTS.segmentMaxRows, 'segmentMaxRows'),
    closeTimeoutMs,
    flushTimeoutMs: positiveInt(options.flushTimeoutMs, closeTimeoutMs, 'flushTimeoutMs'),
    backoff: {
      initialDelayMs: positiveInt(options.retryInitialDelayMs, SINK_DEFAULTS.retryInitialDelayMs, 'retryInitialDelayMs'),
      maxDelayMs: positiveInt(options.retryMaxDelayMs, SINK_DEFAULTS.retryMaxDelayMs, 'retryMaxDelayMs'),
    },
    staleAfterMs,
    heartbeatMs: Math.max(SINK_LIMITS.minHeartbeatMs, Math.floor(staleAfterMs / SINK_LIMITS.heartbeatsPerStaleWindow)),
    adoptIntervalMs: positiveInt(options.adoptIntervalMs, SINK_DEFAULTS.adoptIntervalMs, 'adoptIntervalMs'),
    clock: options.clock ?? SINK_DEFAULTS.clock,
    onError: options.onError,
  };
}

function positiveInt(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v <= 0) throw new AiError('invalid_config', `usage-log: ${name} must be a positive integer, got ${String(v)}`, { retryable: false });
  return v;
}
