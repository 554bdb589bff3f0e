// The caller's input to a stream (microphone audio, LLM text), read once and kept, so a
// fallback attempt can be given everything the failed one was sent, then the rest as it comes.

/** Ends the readers of one attempt at once when the attempt is given up. */
export class Stopper {
  stopped = false;
  readonly promise: Promise<void>;
  private resolve!: () => void;
  constructor() {
    this.promise = new Promise<void>((r) => (this.resolve = r));
  }
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.resolve();
  }
}

/** What the source learns while reading: each item as it arrives, the end, a failure. */
export interface ReplayHooks<T> {
  /** Called once per item, in order, before any reader sees it; throwing refuses the item (the call ends with that error). */
  onItem?(item: T, index: number): void;
  /** The caller's input ended. */
  onEnd?(): void;
  /** The input failed: the caller's iterable threw, or onItem refused an item. */
  onFail?(error: unknown): void;
}

/**
 * Reads `source` on demand (one pull at a time, shared by every reader) and keeps every item.
 * `reader()` replays the kept items, then follows the source. A pull in flight when an attempt
 * is given up is not lost: the next reader gets its item.
 */
export class ReplaySource<T> {
  /** The kept items, from absolute index `base` on. */
  readonly items: T[] = [];
  /** Items before this index were let go (`forgetBefore`): no reader will start over again. */
  private base = 0;
  ended = false;
  /** What the caller's iterable threw, or what onItem refused. */
  error: unknown;
  private iterator: AsyncIterator<T> | undefined;
  private pulling: Promise<void> | undefined;

  constructor(
    private readonly source: AsyncIterable<T>,
    private readonly hooks: ReplayHooks<T> = {},
  ) {}

  get failed(): boolean {
    return this.error !== undefined;
  }

  /** Pulls the next item into `items` (shared by concurrent callers). */
  private fill(): Promise<void> {
    this.pulling ??= this.pull().finally(() => {
      this.pulling = undefined;
    });
    return this.pulling;
  }

  private async pull(): Promise<void> {
    try {
      this.iterator ??= this.source[Symbol.asyncIterator]();
      const r = await this.iterator.next();
      if (this.ended) return;
      if (r.done) {
        this.ended = true;
        this.hooks.onEnd?.();
        return;
      }
      this.hooks.onItem?.(r.value, this.base + this.items.length);
      this.items.push(r.value);
    } catch (e) {
      if (this.ended) return;
      this.error = e;
      this.ended = true;
      this.hooks.onFail?.(e);
    }
  }

  /**
   * An iterable over every item from the first. It ends when the source does, or as soon as
   * `stopper` stops (the attempt reading it was given up), and throws what the source threw.
   * `onRead` hears each item this reader hands out.
   */
  reader(stopper: Stopper, onRead?: (item: T, index: number) => void, onEnd?: () => void): AsyncIterable<T> {
    return {
      [Symbol.asyncIterator]: () => {
        let at = 0;
        let done = false;
        return {
          next: async (): Promise<IteratorResult<T>> => {
            for (;;) {
              if (done || stopper.stopped) return { value: undefined, done: true };
              if (at < this.base) throw new Error('replay-source: a reader started after its items were let go');
              if (at < this.base + this.items.length) {
                const item = this.items[at - this.base]!;
                onRead?.(item, at);
                at++;
                return { value: item, done: false };
              }
              if (this.ended) {
                done = true;
                if (this.error !== undefined) throw this.error;
                onEnd?.();
                return { value: undefined, done: true };
              }
              await Promise.race([this.fill(), stopper.promise]);
            }
          },
          return: async (): Promise<IteratorResult<T>> => {
            done = true;
            return { value: undefined, done: true };
          },
        };
      },
    };
  }

  /**
   * Lets go of the items before absolute index `index`: once nothing can be replayed any more
   * (a final result was delivered), a long stream keeps only what its reader has not read yet.
   */
  forgetBefore(index: number): void {
    const n = Math.min(index, this.base + this.items.length) - this.base;
    if (n <= 0) return;
    this.items.splice(0, n);
    this.base += n;
  }

  /** Stops reading the caller's input (the call is over): its iterator's return() runs. */
  close(): void {
    if (this.ended && this.iterator === undefined) return;
    this.ended = true;
    const it = this.iterator;
    if (it?.return) Promise.resolve(it.return()).then(undefined, () => {});
  }
}
