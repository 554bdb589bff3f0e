// The caller's side of a stream: the call pushes items as they come; the caller pulls them with
// `for await`. Items wait in order when the caller is slower; the call never waits for the caller.

const ALREADY = 'a stream can be iterated once';

/**
 * A one-reader queue that is an AsyncIterable. `push` hands an item on, `end` finishes the
 * iteration after the items queued, `fail` makes it throw after them. Pushes after the end are
 * dropped. Breaking out of the loop early stops nothing but the reading: the call runs to its end.
 */
export class EventChannel<T> implements AsyncIterable<T> {
  private readonly queue: T[] = [];
  private ended = false;
  private error: unknown;
  private failed = false;
  private waiter: ((r: IteratorResult<T>) => void) | undefined;
  private rejectWaiter: ((e: unknown) => void) | undefined;
  private taken = false;
  private stopped = false;

  push(item: T): void {
    if (this.ended || this.stopped) return;
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = this.rejectWaiter = undefined;
      w({ value: item, done: false });
    } else this.queue.push(item);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    const w = this.waiter;
    this.waiter = this.rejectWaiter = undefined;
    w?.({ value: undefined, done: true });
  }

  fail(error: unknown): void {
    if (this.ended) return;
    this.failed = true;
    this.error = error;
    this.ended = true;
    const r = this.rejectWaiter;
    this.waiter = this.rejectWaiter = undefined;
    r?.(error);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.taken) throw new TypeError(ALREADY);
    this.taken = true;
    return {
      next: () => {
        if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift()!, done: false });
        if (this.stopped) return Promise.resolve({ value: undefined, done: true });
        if (this.ended) return this.failed ? Promise.reject(this.error) : Promise.resolve({ value: undefined, done: true });
        return new Promise<IteratorResult<T>>((resolve, reject) => {
          this.waiter = resolve;
          this.rejectWaiter = reject;
        });
      },
      return: () => {
        // The caller stopped reading: drop what is queued, keep nothing more.
        this.stopped = true;
        this.queue.length = 0;
        const w = this.waiter;
        this.waiter = this.rejectWaiter = undefined;
        w?.({ value: undefined, done: true });
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
