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

  async flush(): Promise<void> {
    await Promise.all(this.sinks.map((s, i) => s.flush().catch((e: unknown) => this.onSinkError(e, i))));
  }

  async close(): Promise<void> {
    await Promise.all(this.sinks.map((s, i) => s.close().catch((e: unknown) => this.onSinkError(e, i))));
  }
}
