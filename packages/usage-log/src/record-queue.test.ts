import { describe, expect, it } from 'vitest';
import { makeRecord, recordId, streamId } from '../../../test-support/usage.js';
import { RecordQueue, type SequenceSpan } from './record-queue.js';

const settled = async (p: Promise<unknown>) => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('RecordQueue', () => {
  it('keeps copies in chunks of batchSize and says when a batch filled or memory passed maxQueue', () => {
    const q = new RecordQueue(3, 5);
    const s = streamId();
    const rec = makeRecord(s, 0);
    const at = rec.createdAt.getTime();
    expect(q.push(rec)).toBe(false);
    // The caller reusing its object (and its Date) changes nothing queued.
    rec.providerName = 'changed';
    rec.createdAt.setTime(0);
    expect([q.push(makeRecord(s, 1)), q.push(makeRecord(s, 2))]).toEqual([false, true]);
    expect(q.headIsFull()).toBe(true);
    for (let i = 3; i < 6; i++) q.push(makeRecord(s, i));
    expect(q.overMaxQueue()).toBe(true);
    expect(q.atHardCap()).toBe(false);
    expect([q.length, q.pushed, q.chunkCount]).toEqual([6, 6, 2]);
    const { records, start, end } = q.take(1);
    expect([start, end]).toEqual([0, 3]);
    expect(records[0]).toMatchObject({ id: recordId(s, 0), providerName: 'gemini' });
    expect(records[0]!.createdAt.getTime()).toBe(at);
    expect(q.length).toBe(3);
  });

  it('caps memory at twice maxQueue and tells how many of the oldest chunks to divert down to half of it', () => {
    const q = new RecordQueue(10, 40);
    const s = streamId();
    for (let i = 0; i < 80; i++) q.push(makeRecord(s, i));
    expect(q.atHardCap()).toBe(true);
    // 80 rows in chunks of 10: six chunks leave 20 (= maxQueue / 2).
    expect(q.chunksAboveHalf()).toBe(6);
    const batch = q.take(q.chunksAboveHalf());
    expect(batch.records.map((r) => r.id)).toEqual(Array.from({ length: 60 }, (_, i) => recordId(s, i)));
    expect([q.length, q.atHardCap(), q.overMaxQueue()]).toEqual([20, false, false]);
  });

  it('a flush waiter resolves once every record before it is durable: taken and every batch before it released', async () => {
    const q = new RecordQueue<SequenceSpan>(2, 100);
    const s = streamId();
    for (let i = 0; i < 5; i++) q.push(makeRecord(s, i));
    const first = q.take(1);
    const a: SequenceSpan = { start: first.start, end: first.end };
    q.track(a);
    const waiter = q.waitDurable(q.pushed);
    // It asks for the partial batch to go out too.
    expect(q.flushRequested()).toBe(true);
    const rest = q.take(q.chunkCount);
    const b: SequenceSpan = { start: rest.start, end: rest.end };
    q.track(b);
    expect(q.flushRequested()).toBe(false);
    expect(q.durableBefore()).toBe(0);
    q.release(b);
    q.settle();
    expect(await settled(waiter.promise)).toBe(false);
    q.release(a);
    q.settle();
    expect(q.durableBefore()).toBe(5);
    expect(await settled(waiter.promise)).toBe(true);
  });

  it('a cancelled waiter is forgotten; takeAll() empties memory and releaseWaiters() lets every waiter go', async () => {
    const q = new RecordQueue(2, 100);
    const s = streamId();
    for (let i = 0; i < 3; i++) q.push(makeRecord(s, i));
    const cancelled = q.waitDurable(3);
    cancelled.cancel();
    const kept = q.waitDurable(3);
    expect(q.takeAll().flat().map((r) => r.id)).toEqual([0, 1, 2].map((i) => recordId(s, i)));
    expect([q.length, q.chunkCount, q.durableBefore()]).toEqual([0, 0, 3]);
    q.releaseWaiters();
    expect(await settled(kept.promise)).toBe(true);
    expect(await settled(cancelled.promise)).toBe(false);
  });
});
