import { describe, expect, it } from 'vitest';
import { EventChannel } from './event-channel.js';
import { ReplaySource, Stopper } from './replay-source.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('ReplaySource', () => {
  it('a second reader gets every item from the first, then the rest as it comes; a pull in flight when the first stopped is not lost', async () => {
    const input = new EventChannel<number>();
    const src = new ReplaySource(input);
    const first = new Stopper();
    const r1 = src.reader(first)[Symbol.asyncIterator]();
    input.push(1);
    input.push(2);
    expect(await r1.next()).toEqual({ value: 1, done: false });
    expect(await r1.next()).toEqual({ value: 2, done: false });
    const pending = r1.next(); // waits for item 3
    await tick();
    first.stop();
    expect(await pending).toEqual({ value: undefined, done: true });
    input.push(3); // arrives for the pull the stopped reader started
    input.end();
    const got: number[] = [];
    for await (const n of src.reader(new Stopper())) got.push(n);
    expect(got).toEqual([1, 2, 3]);
  });

  it('forgetBefore lets go of what was read, so a long stream keeps little', async () => {
    const input = new EventChannel<number>();
    const src = new ReplaySource(input);
    const seen: number[] = [];
    const reading = (async () => {
      for await (const n of src.reader(new Stopper(), (_item, index) => src.forgetBefore(index))) seen.push(n);
    })();
    for (let i = 0; i < 100; i++) {
      input.push(i);
      await tick();
    }
    input.end();
    await reading;
    expect(seen).toHaveLength(100);
    expect(src.items.length).toBeLessThanOrEqual(1);
  });

  it('a refused item or a failing input fails every reader with that error, once reported', async () => {
    const failures: unknown[] = [];
    const src = new ReplaySource<number>(
      (async function* () {
        yield 1;
        yield -1;
      })(),
      {
        onItem: (n) => {
          if (n < 0) throw new Error('refused');
        },
        onFail: (e) => failures.push(e),
      },
    );
    const got: number[] = [];
    const error = await (async () => {
      for await (const n of src.reader(new Stopper())) got.push(n);
    })().catch((e: Error) => e.message);
    expect(got).toEqual([1]);
    expect(error).toBe('refused');
    expect(failures).toHaveLength(1);
  });
});
