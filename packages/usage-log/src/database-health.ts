import { backoffDelayMs, type BackoffOptions, type Clock, type RandomSource } from '@korean-together/core';
import { waitInBackground } from './timers.js';

export interface DatabaseHealthOptions {
  /** The insert statement with no rows: resolves when an insert would work again (so a revoked grant keeps the database down). */
  probe(): Promise<void>;
  clock: Clock;
  /** Core's backoff between probes: the first one waits too (the failure just happened). */
  backoff: BackoffOptions;
  /** Default Math.random; tests pin it. */
  random?: RandomSource;
  /** The database failed while it counted as up: once per outage. */
  onDown(error: unknown): void;
  /** A background probe succeeded: the database is up again. */
  onUp(): void;
}

/**
 * Whether the database takes rows, and the background probe that finds out when it does again:
 * after a failure, the empty insert is retried on core's jittered exponential backoff, on the
 * clock's background timers, until it works or `stop()` (close()) ends it.
 */
export class DatabaseHealth {
  private isUp = true;
  private probing = false;
  private readonly stopping = new AbortController();

  constructor(private readonly o: DatabaseHealthOptions) {}

  /** False from a failure until a probe succeeds. */
  get up(): boolean {
    return this.isUp;
  }

  /** The database failed: it counts as down (told to onDown once per outage) and is probed until it answers. */
  markDown(error: unknown): void {
    if (this.isUp) {
      this.isUp = false;
      this.o.onDown(error);
    }
    this.startProbing();
  }

  /** One probe now, outside the backoff (close() with a backlog to replay): up when it answers. */
  async probeOnce(): Promise<void> {
    try {
      await this.o.probe();
      this.isUp = true;
    } catch {
      // Still down; the background probe goes on.
    }
  }

  /** Ends the background probe; nothing is reported or changed by it afterwards. */
  stop(): void {
    this.stopping.abort();
  }

  private startProbing(): void {
    if (this.probing || this.stopping.signal.aborted) return;
    this.probing = true;
    void this.probeUntilUp().then((answered) => {
      this.probing = false;
      if (!answered || this.stopping.signal.aborted) return;
      this.isUp = true;
      this.o.onUp();
    });
  }

  /** True once a probe succeeded; false when stop() came first. */
  private async probeUntilUp(): Promise<boolean> {
    const signal = this.stopping.signal;
    const random = this.o.random ?? Math.random;
    for (let n = 1; ; n++) {
      if (await waitInBackground(this.o.clock, backoffDelayMs(n, this.o.backoff, random), signal)) return false;
      try {
        await this.o.probe();
        return true;
      } catch {
        // Still down: wait longer.
      }
      if (signal.aborted) return false;
    }
  }
}
