import type { UsageRecord, UsageSink } from '@korean-together/core';

/** A usage sink that keeps every record it is given, in order, for a test to read. */
export function memorySink(): UsageSink & { records: UsageRecord[] } {
  const records: UsageRecord[] = [];
  return { records, write: (r) => void records.push(r), flush: async () => {}, close: async () => {} };
}
