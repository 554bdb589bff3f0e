import { describe, expect, it } from 'vitest';
import { makeRecord, streamId } from '../../../test-support/usage.js';
import { createMemorySink } from './memory-sink.js';

describe('createMemorySink', () => {
  it('keeps copies of records in order', async () => {
    const sink = createMemorySink();
    const s = streamId();
    const r = makeRecord(s, 1);
    sink.write(r);
    sink.write(makeRecord(s, 2));
    r.latencyMs = 99_999; // the caller mutating its object later does not change what was recorded
    expect(sink.records.map((x) => x.id)).toEqual([makeRecord(s, 1).id, makeRecord(s, 2).id]);
    expect(sink.records[0]!.latencyMs).toBe(makeRecord(s, 1).latencyMs);
    expect(sink.stats().written).toBe(2);
    await sink.flush();
    sink.clear();
    expect(sink.records).toEqual([]);
    await sink.close();
  });
});
