import { backoffDelayMs, type BackoffOptions, type Clock, type RandomSource } from '@korean-together/core';
import { waitInBackground } from './timers.js';
import { sinkReport, type SinkReporter } from './sink-reports.js';
import type { UsageRow } from './usage-row.js';

export interface SpillRetryOptions {
  spill: { append(rows: readonly UsageRow[]): Promise<void>; readonly ownDir: string };
  clock: Clock;
  /** Core's backoff between failed appends. */
  backoff: BackoffOptions;
  random?: RandomSource;
  /** Whether the database takes rows again: a batch waiting out a backoff goes back to it. */
  databaseUp(): boolean;
  /** True once close() is past its drain deadline: one last try, then the rows count as lost. */
  closed(): boolean;
  reporter: SinkReporter;
}

/** What became of a batch given to the spill file. */
export type SpillOutcome = { kind: 'appended' } | { kind: 'to_database' } | { kind: 'lost'; error: unknown };

/**
 * Appends batches to the spill file, retrying a failed append in the background (core's backoff
 * on the clock's background timers, never keeping the process alive) until it is on disk, the
 * database answers again (the batch is better off there: `to_database`), or close() is past its
 * drain deadline and one last try fails too (`lost`). A failing streak is reported once.
 */
export class SpillRetry {
  private streak = false;
  /** One per batch waiting out a backoff: aborting it ends the wait now. */
  private readonly waits = new Set<AbortController>();

  constructor(private readonly o: SpillRetryOptions) {}

  /** True from a failed append until one succeeds. */
  get failing(): boolean {
    return this.streak;
  }

  async append(rows: readonly UsageRow[]): Promise<SpillOutcome> {
    let wait = this.newWait();
    try {
      let failures = 0;
      let lastTry = false;
      for (;;) {
        try {
          await this.o.spill.append(rows);
          this.streak = false;
          return { kind: 'appended' };
        } catch (err) {
          this.failed(err);
          if (lastTry) return { kind: 'lost', error: err };
        }
        if (this.o.closed()) {
          lastTry = true;
          continue;
        }
        const woken = await waitInBackground(this.o.clock, backoffDelayMs(++failures, this.o.backoff, this.o.random ?? Math.random), wait.signal);
        if (this.o.closed()) lastTry = true;
        else if (this.o.databaseUp()) return { kind: 'to_database' };
        else if (woken) {
          // Woken for a database that failed again at once: retry now, and back off from the start.
          failures = 0;
          this.waits.delete(wait);
          wait = this.newWait();
        }
      }
    } finally {
      this.waits.delete(wait);
    }
  }

  /** Ends every backoff wait now: the database is back, or close() is at its drain deadline. */
  wakeAll(): void {
    for (const w of this.waits) w.abort();
    this.waits.clear();
  }

  private newWait(): AbortController {
    const c = new AbortController();
    this.waits.add(c);
    return c;
  }

  private failed(err: unknown): void {
    if (this.streak) return;
    this.streak = true;
    this.o.reporter.report(sinkReport.spillFailed(this.o.spill.ownDir, err));
  }
}
