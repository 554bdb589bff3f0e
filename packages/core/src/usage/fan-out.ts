import type { UsageRecord, UsageSink } from './usage-record.js';

/**
 * Hands each record to every sink, synchronously (sinks queue; they never do I/O in write).
 * A sink that breaks its contract and throws is reported, never allowed to fail the call.
 */
export class UsageFanOut {
  constructor(
    private readonly sinks: readonly UsageSink[],
    private readonly onSinkError: (error: unknown, sinkIndex: number) => void,
  ) {}

  write(record: UsageRecord): void {
    for (let i = 0; i < this.sinks.length; i++) {
      try {
        this.sinks[i]!.write(record);
      } catch (e) {
        this.onSinkError(e, i);
      }
    }
  }

  get size(): number {
    return this.sinks.length;
  }

  /** Flushes sink `i`; a failure (a rejection, or a throw) is reported, never passed on. */
  flushSink(i: number): Promise<void> {
    return this.guard(i, () => this.sinks[i]!.flush());
  }

  /** Closes sink `i`; a failure is reported, never passed on. */
  closeSink(i: number): Promise<void> {
    return this.guard(i, () => this.sinks[i]!.close());
  }

  async flush(): Promise<void> {
    await Promise.all(this.sinks.map((_, i) => this.flushSink(i)));
  }

  async close(): Promise<void> {
    await Promise.all(this.sinks.map((_, i) => this.closeSink(i)));
  }

  private async guard(i: number, op: () => Promise<void>): Promise<void> {
    try {
      await op();
    } catch (e) {
      this.onSinkError(e, i);
    }
  }
}
