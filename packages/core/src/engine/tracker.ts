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

/** Tracks promises nobody awaits (budget settlements): each leaves the set when it settles. */
export class BackgroundWork extends Tracker<Promise<unknown>> {
  run(work: Promise<unknown>): void {
    this.add(work);
    const done = (): void => this.delete(work);
    work.then(done, done);
  }
}
