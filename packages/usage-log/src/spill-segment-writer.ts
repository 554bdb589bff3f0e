import { closeSync, fsyncSync, openSync, renameSync } from 'node:fs';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, fsyncDirSync, writeAll, writeAllSync } from './durable-file.js';
import { OPEN_SUFFIX, segmentFileName } from './spill-layout.js';
import type { UsageRow } from './usage-row.js';

export interface SegmentWriterOptions {
  /** This instance's writer directory. */
  dir: string;
  /** Rows per segment before a new one is started (bounds what one replay step reads). */
  segmentMaxRows: number;
  /** Makes the directory with its owner file before the first segment (see SpillOwnership.claim). */
  prepare(): Promise<void>;
  /** The same, blocking. */
  prepareSync(): void;
  /** A segment was closed (renamed from `.open`): it waits for replay now. */
  onClosed(path: string): void;
}

interface ActiveSegment {
  /** Path while open (`seg-N.jsonl.open`); renamed to `seg-N.jsonl` when closed. */
  path: string;
  fh: FileHandle;
  rows: number;
  /** Bytes known to be in the file: a failed append is truncated back to this. */
  bytes: number;
  ino: number;
}

/**
 * Appends rows to this instance's spill segments as JSON lines. Appends are serialised (with
 * anything else given to `serialized`) and each is durable before it resolves: every byte
 * written and fdatasync'd, or on failure nothing of it left in the file (a short write is
 * truncated away). The segment being appended to carries an `.open` suffix and is renamed when
 * it is full or closed. A writer wrongly taken for dead by an adopter notices that its open
 * segment was renamed or unlinked and copies it to a new segment, so no row is lost.
 */
export class SegmentWriter {
  private chain: Promise<unknown> = Promise.resolve();
  private active: ActiveSegment | null = null;
  private seq = 0;

  constructor(private readonly o: SegmentWriterOptions) {}

  /** Rows in the segment being appended to (it waits for replay too once it has any). */
  get activeRows(): number {
    return this.active?.rows ?? 0;
  }

  /** Runs `fn` after every append and serialised task before it. */
  serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => {});
    return run;
  }

  /** Appends rows durably, filling segments up to segmentMaxRows. */
  append(rows: readonly UsageRow[]): Promise<void> {
    return this.serialized(() => this.doAppend(rows));
  }

  /** Closes the segment being appended to, in turn, so new rows go to a fresh one while it is replayed. Never rejects. */
  closeActiveInTurn(): Promise<void> {
    return this.serialized(() => this.closeActive()).catch(() => {});
  }

  /** Waits for what is under way, then closes the active segment. Never rejects. */
  async close(): Promise<void> {
    await this.chain;
    await (this.chain = this.closeActive().catch(() => {}));
  }

  /**
   * Appends synchronously: only for rows written after close(), where no event-loop turn may
   * be left. Blocks for one write + fsync. The file is written under its open name and renamed
   * once complete, so an adopter never takes it half-written.
   */
  appendSync(rows: readonly UsageRow[]): void {
    this.o.prepareSync();
    const closedPath = join(this.o.dir, segmentFileName(++this.seq, { late: true }));
    const openPath = closedPath + OPEN_SUFFIX;
    const fd = openSync(openPath, 'w');
    try {
      writeAllSync(fd, Buffer.from(rows.map((r) => `${JSON.stringify(r)}\n`).join('')));
      fsyncSync(fd);
    } catch (err) {
      closeSync(fd);
      try {
        renameSync(openPath, `${openPath}.failed`);
      } catch {
        // Nothing more to do: the caller counts the rows as dropped.
      }
      throw err;
    }
    closeSync(fd);
    renameSync(openPath, closedPath);
    fsyncDirSync(this.o.dir);
  }

  private async doAppend(rows: readonly UsageRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.o.prepare();
    // Fill segments up to segmentMaxRows, so a replay never has to read more than that at once.
    let i = 0;
    while (i < rows.length) {
      if (!this.active) await this.openSegment();
      const seg = this.active!;
      const n = Math.min(rows.length - i, this.o.segmentMaxRows - seg.rows);
      let text = '';
      for (let k = i; k < i + n; k++) text += `${JSON.stringify(rows[k])}\n`;
      const buf = Buffer.from(text);
      try {
        await writeAll(seg.fh, buf);
        await seg.fh.datasync();
      } catch (err) {
        // A short write (disk full) would leave half a line that the next append glues onto:
        // cut the file back to what was there, so the rows of this call are simply not spilled.
        await seg.fh.truncate(seg.bytes).catch(() => {});
        throw err;
      }
      seg.bytes += buf.length;
      seg.rows += n;
      i += n;
      if (await this.taken(seg)) await this.rescue(seg);
      else if (seg.rows >= this.o.segmentMaxRows) await this.closeActive();
    }
  }

  /** True when an adopter renamed or unlinked the open segment (it took this writer for dead). */
  private async taken(seg: ActiveSegment): Promise<boolean> {
    const st = await seg.fh.stat();
    if (st.nlink === 0) return true;
    try {
      return (await stat(seg.path)).ino !== seg.ino;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
      throw err;
    }
  }

  /**
   * The open segment was taken by an adopter that may have read it before the last appends:
   * copy everything it holds (read back through our descriptor) to a fresh segment. Rows the
   * adopter did replay are then inserted twice, which ON CONFLICT DO NOTHING makes a no-op.
   */
  private async rescue(seg: ActiveSegment): Promise<void> {
    const buf = Buffer.alloc(seg.bytes);
    let off = 0;
    while (off < seg.bytes) {
      const { bytesRead } = await seg.fh.read(buf, off, seg.bytes - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    this.active = null;
    await seg.fh.close().catch(() => {});
    await this.openSegment();
    const next = this.active!;
    try {
      await writeAll(next.fh, buf.subarray(0, off));
      await next.fh.datasync();
    } catch (err) {
      await next.fh.truncate(0).catch(() => {});
      throw err;
    }
    next.bytes = off;
    next.rows = seg.rows;
  }

  private async openSegment(): Promise<void> {
    const path = join(this.o.dir, segmentFileName(++this.seq, { open: true }));
    // 'a+': readable too, so a segment taken by an adopter can be read back (see rescue()).
    const fh = await open(path, 'a+');
    const st = await fh.stat();
    await fsyncDir(this.o.dir);
    this.active = { path, fh, rows: 0, bytes: st.size, ino: st.ino };
  }

  private async closeActive(): Promise<void> {
    const seg = this.active;
    if (!seg) return;
    if (seg.rows > 0 && (await this.taken(seg).catch(() => false))) await this.rescue(seg);
    const cur = this.active!;
    this.active = null;
    await cur.fh.close();
    if (cur.rows === 0) {
      await unlink(cur.path).catch(() => {});
      return;
    }
    const closedPath = cur.path.slice(0, -OPEN_SUFFIX.length);
    await rename(cur.path, closedPath);
    await fsyncDir(this.o.dir);
    this.o.onClosed(closedPath);
  }
}
