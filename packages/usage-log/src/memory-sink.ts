import type { UsageRecord, UsageSink } from '@korean-together/core';

export type MemorySink = UsageSink & {
  /** Every record written, in order, as given (a shallow copy; not validated). */
  readonly records: UsageRecord[];
  /** Forgets every record. */
  clear(): void;
  stats(): { written: number; pending: 0; dropped: 0 };
};

/** Keeps records in an array: for tests and demos that look at what was emitted. */
export function createMemorySink(): MemorySink {
  const records: UsageRecord[] = [];
  return {
    records,
    write(record: UsageRecord): void {
      records.push({ ...record });
    },
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
    clear() {
      records.length = 0;
    },
    stats: () => ({ written: records.length, pending: 0, dropped: 0 }),
  };
}
