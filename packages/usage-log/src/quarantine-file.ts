import { appendDurably } from './durable-file.js';

/**
 * One sink instance's quarantine file: JSON lines kept for people to inspect, never replayed.
 * Entries queued while a write is under way go out together: one write and one fdatasync per
 * group, not per entry. Each entry gets the wall-clock time it was written at.
 */
export class QuarantineFile {
  private chain: Promise<unknown> = Promise.resolve();
  private pending: string[] = [];
  private batch: Promise<void> | null = null;

  constructor(private readonly path: string) {}

  /** Resolves once `entry` is on disk; rejects when that failed. */
  add(entry: Record<string, unknown>): Promise<void> {
    this.pending.push(`${JSON.stringify({ at: new Date().toISOString(), ...entry })}\n`);
    if (this.batch) return this.batch;
    const batch = this.chain.then(async () => {
      this.batch = null;
      const lines = this.pending;
      this.pending = [];
      await appendDurably(this.path, lines.join(''));
    });
    this.batch = batch;
    this.chain = batch.catch(() => {});
    return batch;
  }

  /** Resolves when every entry added so far is written (or failed). */
  settled(): Promise<unknown> {
    return this.chain;
  }
}
