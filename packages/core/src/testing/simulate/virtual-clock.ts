import type { Clock } from '../../policy/clock.js';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * The simulator's clock: time moves only when `fireNext()` is called, to the earliest pending
 * timer (in the order set, for equal times). A binary heap keeps 100,000 calls' timers cheap;
 * cleared timers are dropped lazily when they reach the top.
 */
export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly heap: Timer[] = [];
  private readonly live = new Set<number>();

  constructor(readonly startMs: number) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  /** Virtual ms since the start. */
  elapsed(): number {
    return this.t - this.startMs;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const seq = ++this.seq;
    this.live.add(seq);
    this.push({ at: this.t + Math.max(0, ms || 0), seq, fn });
    return seq;
  }

  clearTimeout(handle: unknown): void {
    this.live.delete(handle as number);
  }

  setBackgroundTimeout(fn: () => void, ms: number): unknown {
    return this.setTimeout(fn, ms);
  }

  get pending(): number {
    return this.live.size;
  }

  /** Moves time to the next live timer and runs it; false when none is left. */
  fireNext(): boolean {
    for (;;) {
      const top = this.pop();
      if (!top) return false;
      if (!this.live.delete(top.seq)) continue;
      this.t = top.at;
      top.fn();
      return true;
    }
  }

  private less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(timer: Timer): void {
    const h = this.heap;
    h.push(timer);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
