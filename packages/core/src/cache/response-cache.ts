// One capability's cache as a client holds it: the store behind a short per-operation timeout,
// a pause after a failure so a store that is down costs one timeout, not one per call, and the
// identical misses in flight (single flight).
import { AiError } from '../errors/ai-error.js';
import { emit, type AiClientEvents } from '../events.js';
import type { Clock } from '../policy/clock.js';
import type { CacheOperation, CacheStore } from './cache-store.js';
import type { CachedCapability } from './capability-cache.js';
import type { CacheEntry } from './cache-entry.js';

/** After STORE_FAILURES_TO_PAUSE operations in a row fail or run late, the store is left alone this long (ms): calls go on without it meanwhile. */
export const STORE_PAUSE_MS = 5_000;
/** Failed or late operations in a row that pause the store: one slow moment (a cold connection pool) is not an outage. */
export const STORE_FAILURES_TO_PAUSE = 3;

export interface ResponseCacheOptions {
  capability: CachedCapability;
  store: CacheStore;
  /** How long an entry lives, ms. */
  ttlMs: number;
  /** Longest wait for one store operation, ms. */
  timeoutMs: number;
  clock: Clock;
  events: AiClientEvents;
  /** Secret mixed into every key (HMAC); never stored. Default none: plain sha256. */
  keySalt?: string;
}

/**
 * How a flight ends: the leader's entry; undefined when it found none (its followers look
 * again, and one of them leads); or 'own' when its answer is not one for this key (a TTS
 * fallback voice): each follower then makes its own call, without queueing behind another.
 */
export type Landing = CacheEntry | undefined | 'own';

/** The leader of identical misses in flight. */
export interface Flight {
  readonly done: Promise<Landing>;
  settle(landing: Landing): void;
}

function newFlight(): Flight {
  let settle!: (e: Landing) => void;
  const done = new Promise<Landing>((r) => (settle = r));
  return { done, settle };
}

export class ResponseCache {
  readonly capability: CachedCapability;
  readonly ttlMs: number;
  readonly keySalt: string | undefined;
  private readonly flights = new Map<string, Flight>();
  /** Entries whose store write is still on its way: served from here meanwhile, so no call misses in that gap. */
  private readonly writing = new Map<string, CacheEntry>();
  private pausedUntil = 0;
  private failuresInRow = 0;

  constructor(private readonly o: ResponseCacheOptions) {
    this.capability = o.capability;
    this.ttlMs = o.ttlMs;
    this.keySalt = o.keySalt;
  }

  get store(): CacheStore {
    return this.o.store;
  }

  /** The flight for `key` in progress, if any. */
  flight(key: string): Flight | undefined {
    return this.flights.get(key);
  }

  /** Starts the flight for `key` (the caller leads it) and returns it. */
  lead(key: string): Flight {
    const f = newFlight();
    this.flights.set(key, f);
    return f;
  }

  /** Ends the flight for `key` (see Landing for what its followers do). */
  land(key: string, flight: Flight, landing: Landing): void {
    if (this.flights.get(key) === flight) this.flights.delete(key);
    flight.settle(landing);
  }

  /** The stored value, or undefined on a miss, a paused store, a failure or a timeout (at most `min(timeoutMs, maxWaitMs)`). */
  get(key: string, maxWaitMs: number): Promise<Uint8Array | undefined> {
    return this.bounded('get', maxWaitMs, (signal) => this.o.store.get(key, signal));
  }

  /** An entry being written under `key` right now, if any. */
  written(key: string): CacheEntry | undefined {
    return this.writing.get(key);
  }

  /** Stores `entry` (encoded as `value`); never rejects (a failure is reported through `onCacheError`). */
  async set(key: string, value: Uint8Array, entry: CacheEntry): Promise<void> {
    this.writing.set(key, entry);
    try {
      await this.bounded('set', this.o.timeoutMs, (signal) => this.o.store.set(key, value, this.ttlMs, signal));
    } finally {
      if (this.writing.get(key) === entry) this.writing.delete(key);
    }
  }

  private async bounded<T>(operation: CacheOperation, maxWaitMs: number, op: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
    const { clock, timeoutMs } = this.o;
    if (clock.now() < this.pausedUntil) return undefined;
    const waitMs = Math.max(1, Math.min(timeoutMs, maxWaitMs));
    const controller = new AbortController();
    let timer: unknown;
    const late = new Promise<'late'>((resolve) => {
      timer = clock.setTimeout(() => resolve('late'), waitMs);
    });
    try {
      const running = op(controller.signal);
      running.catch(() => {}); // a late rejection after the timeout is already reported
      const out = await Promise.race([running, late]);
      if (out === 'late') {
        controller.abort();
        this.fail(operation, new AiError('timeout', `cache ${this.capability}: store ${operation} took longer than ${waitMs} ms; skipped`, { retryable: true }), true);
        return undefined;
      }
      this.failuresInRow = 0;
      return out;
    } catch (error) {
      this.fail(operation, error, false);
      return undefined;
    } finally {
      clock.clearTimeout(timer as never);
    }
  }

  private fail(operation: CacheOperation, error: unknown, timedOut: boolean): void {
    const pause = ++this.failuresInRow >= STORE_FAILURES_TO_PAUSE;
    if (pause) {
      this.failuresInRow = 0;
      this.pausedUntil = this.o.clock.now() + STORE_PAUSE_MS;
    }
    emit(this.o.events, 'onCacheError', { capability: this.capability, operation, error, timedOut, pausedMs: pause ? STORE_PAUSE_MS : 0 });
  }
}
