import { mkdir, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsyncDir } from './durable-file.js';
import { setAsidePath } from './spill-layout.js';
import { removeWriterDir } from './spill-ownership.js';
import { normalizeUsage, type UsageRow } from './usage-row.js';

/** A spill segment waiting to be replayed into the database. */
export interface Segment {
  path: string;
  /** Directory of the writer that produced it (this instance's, or a dead writer's). */
  dir: string;
  /** A dead writer's segment, taken over by this instance (its directory goes once its last segment does). */
  adopted: boolean;
}

export interface CorruptLine {
  line: number;
  raw: string;
}

/**
 * The closed segments waiting for replay, oldest first: adopted ones of dead writers, then this
 * instance's own. A segment leaves the backlog when its rows are committed (removed), when it
 * keeps failing (set aside in `quarantine/segments/`), or when another adopter got to it first.
 */
export class SpillBacklog {
  private readonly own: Segment[] = [];
  private readonly adopted: Segment[] = [];
  private readonly known = new Set<string>();

  /** `spillDir`: the root, for the set-aside directory. */
  constructor(private readonly spillDir: string) {}

  get count(): number {
    return this.own.length + this.adopted.length;
  }

  /** One of this instance's segments was closed. */
  addOwn(path: string, dir: string): void {
    this.own.push({ path, dir, adopted: false });
  }

  /** Takes over closed segments (file names, sorted) of a dead writer's directory; returns how many are new. */
  adopt(dir: string, segments: readonly string[]): number {
    let added = 0;
    for (const f of segments) {
      const path = join(dir, f);
      if (this.known.has(path)) continue;
      this.known.add(path);
      this.adopted.push({ path, dir, adopted: true });
      added++;
    }
    return added;
  }

  next(): Segment | null {
    return this.adopted[0] ?? this.own[0] ?? null;
  }

  /** Puts a segment that could not be replayed at the back of its queue, so the others go first. */
  defer(seg: Segment): void {
    const list = this.listOf(seg);
    const i = list.indexOf(seg);
    if (i < 0) return;
    list.splice(i, 1);
    list.push(seg);
  }

  /** Reads a segment: valid rows in file order, and the lines that are not (a torn last write, say). Null when it is gone. */
  async read(seg: Segment): Promise<{ rows: UsageRow[]; corrupt: CorruptLine[] } | null> {
    let text: string;
    try {
      text = await readFile(seg.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        // Another adopter replayed and removed it.
        this.forget(seg);
        return null;
      }
      throw err;
    }
    const rows: UsageRow[] = [];
    const corrupt: CorruptLine[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!;
      if (raw === '' && i === lines.length - 1) break;
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        corrupt.push({ line: i + 1, raw });
        continue;
      }
      const n = normalizeUsage(parsed);
      if (n.ok) rows.push(n.row);
      else corrupt.push({ line: i + 1, raw });
    }
    return { rows, corrupt };
  }

  /** Removes a segment whose rows are committed (and its writer's directory once empty, for an adopted one). */
  async remove(seg: Segment): Promise<void> {
    await unlink(seg.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await fsyncDir(seg.dir);
    this.forget(seg);
    await this.dropWriterDirIfDone(seg);
  }

  /**
   * Takes a segment that keeps failing out of the backlog and moves it (when it can) to
   * `quarantine/segments/` for people to look at. Resolves to where it went, or null when it
   * could not be moved (it is then only skipped by this instance).
   */
  async setAside(seg: Segment): Promise<string | null> {
    this.forget(seg);
    const dest = setAsidePath(this.spillDir, seg.path);
    try {
      await mkdir(dirname(dest), { recursive: true });
      await rename(seg.path, dest);
      await fsyncDir(seg.dir);
      return dest;
    } catch {
      return null;
    } finally {
      await this.dropWriterDirIfDone(seg);
    }
  }

  private async dropWriterDirIfDone(seg: Segment): Promise<void> {
    if (seg.adopted && !this.adopted.some((s) => s.dir === seg.dir)) await removeWriterDir(seg.dir);
  }

  private forget(seg: Segment): void {
    const list = this.listOf(seg);
    const i = list.indexOf(seg);
    if (i >= 0) list.splice(i, 1);
  }

  private listOf(seg: Segment): Segment[] {
    return seg.adopted ? this.adopted : this.own;
  }
}
