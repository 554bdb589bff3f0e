import type { UsageRecord } from '@korean-together/core';

/** Write sequence numbers [start, end) of a batch taken from the queue that is not durable yet. */
export interface SequenceSpan {
  readonly start: number;
  readonly end: number;
}

interface Waiter {
  /** Resolves once every row before this sequence number is durable. */
  readonly target: number;
  readonly resolve: () => void;
}

/**
 * The sink's memory, synchronous and O(1) per record: shallow copies of written records in
 * chunks of `batchSize` (append to the last, take from the first), write sequence numbers, the
 * batches taken but not durable yet, and the flush() waiters they hold back. No I/O, no timers:
 * the sink decides where batches go; the queue only knows what is durable.
 */
export class RecordQueue<Span extends SequenceSpan = SequenceSpan> {
  private chunks: UsageRecord[][] = [];
  private queued = 0;
  private pushedCount = 0;
  private takenCount = 0;
  private readonly inFlight = new Set<Span>();
  private waiters: Waiter[] = [];
  /** The highest sequence number a flush() asked for: partial batches go out until it is taken. */
  private flushTarget = 0;

  constructor(
    private readonly batchSize: number,
    private readonly maxQueue: number,
  ) {}

  /** Records in memory, not taken yet. */
  get length(): number {
    return this.queued;
  }

  /** Records ever pushed: the sequence number the next one gets. */
  get pushed(): number {
    return this.pushedCount;
  }

  get chunkCount(): number {
    return this.chunks.length;
  }

  /** Batches taken and not durable yet (sent to the database, or being spilled). */
  get spans(): ReadonlySet<Span> {
    return this.inFlight;
  }

  /**
   * Appends a shallow copy of `record` (its Date copied too: a caller reusing its object must
   * not change what is stored). True when a batch just filled or memory is past maxQueue:
   * the caller should send something soon.
   */
  push(record: UsageRecord): boolean {
    let tail = this.chunks[this.chunks.length - 1];
    if (tail === undefined || tail.length >= this.batchSize) {
      tail = [];
      this.chunks.push(tail);
    }
    const copy = { ...record };
    if (copy.createdAt instanceof Date) copy.createdAt = new Date(copy.createdAt.getTime());
    tail.push(copy);
    this.queued++;
    this.pushedCount++;
    return tail.length === this.batchSize || this.queued > this.maxQueue;
  }

  /** True when the oldest chunk is a whole batch. */
  headIsFull(): boolean {
    return (this.chunks[0]?.length ?? 0) >= this.batchSize;
  }

  /** Memory holds more than maxQueue records: the oldest should go to the spill file. */
  overMaxQueue(): boolean {
    return this.queued > this.maxQueue;
  }

  /** Memory holds twice maxQueue records: the hard cap while neither the database nor the spill file takes rows. */
  atHardCap(): boolean {
    return this.queued >= this.maxQueue * 2;
  }

  /** How many of the oldest chunks to divert so that about maxQueue / 2 records stay in memory. */
  chunksAboveHalf(): number {
    let n = 0;
    let rows = this.queued;
    while (n < this.chunks.length && rows > this.maxQueue / 2) rows -= this.chunks[n++]!.length;
    return n;
  }

  /** Whether a flush() waits for records still in memory: partial batches should go out now. */
  flushRequested(): boolean {
    return this.flushTarget > this.takenCount;
  }

  /** Takes the oldest `nChunks` chunks as one batch: its records and their sequence numbers. Track the batch until it is durable. */
  take(nChunks: number): { records: UsageRecord[]; start: number; end: number } {
    const taken = this.chunks.splice(0, nChunks);
    const records = taken.length === 1 ? taken[0]! : taken.flat();
    this.queued -= records.length;
    const start = this.takenCount;
    this.takenCount += records.length;
    return { records, start, end: this.takenCount };
  }

  /** Empties memory (close()): every chunk still queued, oldest first. */
  takeAll(): UsageRecord[][] {
    const chunks = this.chunks;
    this.chunks = [];
    this.queued = 0;
    this.takenCount = this.pushedCount;
    return chunks;
  }

  /** A taken batch is on its way: flush() waiters behind it wait until `release(span)`. */
  track(span: Span): void {
    this.inFlight.add(span);
  }

  /** A taken batch is durable (committed, spilled, or given up by close()); `settle()` then lets the waiters it held back go. */
  release(span: Span): void {
    this.inFlight.delete(span);
  }

  /** The lowest sequence number not durable yet. */
  durableBefore(): number {
    let min = this.takenCount;
    for (const s of this.inFlight) if (s.start < min) min = s.start;
    return min;
  }

  /**
   * A promise that resolves once every record before sequence `target` is durable, and a way to
   * stop waiting (a flush() that gave up). Asks for partial batches to go out.
   */
  waitDurable(target: number): { promise: Promise<void>; cancel(): void } {
    this.flushTarget = Math.max(this.flushTarget, target);
    let waiter!: Waiter;
    const promise = new Promise<void>((resolve) => {
      waiter = { target, resolve };
      this.waiters.push(waiter);
    });
    return {
      promise,
      cancel: () => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
      },
    };
  }

  /** Resolves the waiters whose records are all durable now. */
  settle(): void {
    if (this.waiters.length === 0) return;
    const min = this.durableBefore();
    const still: Waiter[] = [];
    for (const w of this.waiters) (w.target <= min ? w.resolve() : still.push(w));
    this.waiters = still;
  }

  /** Resolves every waiter (close() has dealt with every record, durable or counted lost). */
  releaseWaiters(): void {
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }
}
