/**
 * A set of live things (calls in flight, background settlements) that close() can wait for
 * without a promise per member: `idle()` resolves when the set next becomes empty.
 */
export class Tracker<T> {
  private readonly items = new Set<T>();
  private waiters: (() => void)[] = [];

  get size(): number {
    return this.items.size;
  }

  add(item: T): void {
    this.items.add(item);
  }

  delete(item: T): void {
    if (!this.items.delete(item) || this.items.size > 0 || this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves once nothing is left (at once when nothing is). */
  idle(): Promise<void> {
    if (this.items.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  values(): IterableIterator<T> {
    return this.items.values();
  }
}

/**
 * Counts work nobody awaits (budget settlements): each piece leaves when it settles. A count,
 * not a set: close() only needs how many are left and when none is.
 */
export class BackgroundWork {
  private count = 0;
  private waiters: (() => void)[] = [];
  private readonly done = (): void => {
    if (--this.count > 0 || this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  };

  get size(): number {
    return this.count;
  }

  /** Tracks `work` until it settles (it must never reject: a rejection is still only counted). */
  run(work: Promise<unknown>): void {
    this.count++;
    work.then(this.done, this.done);
  }

  /** Resolves once nothing is left (at once when nothing is). */
  idle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
