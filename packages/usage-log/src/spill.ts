import type { Clock } from '@korean-together/core';
import { QuarantineFile } from './quarantine-file.js';
import { SpillBacklog, type CorruptLine, type Segment } from './spill-backlog.js';
import { quarantinePath } from './spill-layout.js';
import { SpillOwnership, type ForeignSpill } from './spill-ownership.js';
import { SegmentWriter } from './spill-segment-writer.js';
import type { UsageRow } from './usage-row.js';

export type { CorruptLine, ForeignSpill, Segment };

export interface SpillStoreOptions {
  /** Root spill directory; each writer instance gets its own subdirectory `w-*`. */
  dir: string;
  /** The database and table as configured (address hashed): decides for owner files without a `databaseId`. */
  targetId: string;
  /** `schema.table`: foreign directories are reported only for the same table. Default: the end of targetId. */
  relation?: string;
  /** Rows per segment before a new one is started. */
  segmentMaxRows: number;
  /** A writer whose heartbeat is older than this (ms) is taken as dead and its segments adopted. */
  staleAfterMs: number;
  /** How often the owner file is touched (ms). */
  heartbeatMs: number;
  /** Timers of the heartbeat (background ones). Default core's systemClock. */
  clock?: Clock;
}

/**
 * Durable JSONL spill for usage rows, one sink instance's view of the spill directory: its own
 * segments (SegmentWriter), who owns which directory and which dead writers' directories to
 * take over (SpillOwnership), the segments waiting for replay (SpillBacklog), and its
 * quarantine file. A segment is removed only after the caller committed its rows; two adopters
 * racing is harmless because inserts are idempotent.
 */
export class SpillStore {
  readonly instanceId: string;
  readonly ownDir: string;
  /** Dead writers' directories for this table in another database, as of the last scan. */
  foreignDirs: ForeignSpill[] = [];
  private readonly ownership: SpillOwnership;
  private readonly writer: SegmentWriter;
  private readonly backlog: SpillBacklog;
  private readonly quarantineFile: QuarantineFile;
  private closed = false;

  constructor(opts: SpillStoreOptions) {
    const ownership = (this.ownership = new SpillOwnership(opts));
    this.instanceId = ownership.instanceId;
    this.ownDir = ownership.ownDir;
    const backlog = (this.backlog = new SpillBacklog(opts.dir));
    this.writer = new SegmentWriter({
      dir: this.ownDir,
      segmentMaxRows: opts.segmentMaxRows,
      prepare: () => ownership.claim(),
      prepareSync: () => ownership.claimSync(),
      onClosed: (path) => backlog.addOwn(path, this.ownDir),
    });
    this.quarantineFile = new QuarantineFile(quarantinePath(opts.dir, this.instanceId));
  }

  /** Segments known to wait for replay (own closed ones, the active one if it has rows, adopted ones). */
  get backlogSegments(): number {
    return this.backlog.count + (this.writer.activeRows > 0 ? 1 : 0);
  }

  hasBacklog(): boolean {
    return this.backlogSegments > 0;
  }

  /**
   * Appends rows durably (every byte written and fdatasync'd before the promise resolves).
   * On failure nothing of this call stays in the file: a partial write is truncated away.
   */
  append(rows: readonly UsageRow[]): Promise<void> {
    return this.writer.append(rows);
  }

  /** Appends synchronously, for rows written after close() (see SegmentWriter.appendSync). */
  appendSync(rows: readonly UsageRow[]): void {
    this.writer.appendSync(rows);
  }

  /** Appends a line to this instance's quarantine file (kept for people to inspect; never replayed). */
  quarantine(entry: Record<string, unknown>): Promise<void> {
    return this.quarantineFile.add(entry);
  }

  /**
   * The next segment to replay, oldest first: adopted segments of dead writers, then this
   * instance's closed ones. When only the active segment has rows it is closed first, so new
   * rows go to a fresh one while it is replayed.
   */
  async nextSegment(): Promise<Segment | null> {
    const next = this.backlog.next();
    if (next || this.writer.activeRows === 0) return next;
    await this.writer.closeActiveInTurn();
    return this.backlog.next();
  }

  /** Puts a segment that could not be replayed at the back of its queue, so the others go first. */
  defer(seg: Segment): void {
    this.backlog.defer(seg);
  }

  /** Moves a segment that keeps failing to `quarantine/segments/`; resolves to where, or null when it could not be moved. */
  setAside(seg: Segment): Promise<string | null> {
    return this.backlog.setAside(seg);
  }

  /** Reads a segment: valid rows in file order, and the lines that are not (a torn last write, say). */
  readSegment(seg: Segment): Promise<{ rows: UsageRow[]; corrupt: CorruptLine[] } | null> {
    return this.backlog.read(seg);
  }

  /** Removes a segment whose rows are committed. */
  removeSegment(seg: Segment): Promise<void> {
    return this.backlog.remove(seg);
  }

  /**
   * What the database says it is (`databaseId`), or undefined when it will not say. Written to
   * this writer's owner file (rewritten if it exists), so a writer configured with another
   * spelling of the same database's address adopts these segments.
   */
  setIdentity(databaseId: string | undefined): void {
    this.ownership.setIdentity(databaseId);
    // In turn with the appends: one under way may be creating the directory with the old owner file.
    if (databaseId && !this.closed) void this.writer.serialized(() => this.ownership.rewriteOwner()).catch(() => {});
  }

  /**
   * Looks for directories of dead writers: queues the segments of those for the same target
   * and returns how many were added; lists those for the same table in another database in
   * `foreignDirs`.
   */
  async adoptStale(): Promise<number> {
    const { adoptable, foreign } = await this.ownership.scan();
    let added = 0;
    for (const { dir, segments } of adoptable) added += this.backlog.adopt(dir, segments);
    this.foreignDirs = foreign;
    return added;
  }

  /** Closes the active segment and stops the heartbeat; removes this instance's directory when nothing is left in it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer.close();
    await this.quarantineFile.settled();
    await this.ownership.release();
  }
}
