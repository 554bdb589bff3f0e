import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, fsyncSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, rmdir, stat, unlink, utimes, writeFile, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { normalizeUsage, type UsageRow } from './usage-row.js';

/** A spill segment waiting to be replayed into the database. */
export interface Segment {
  path: string;
  /** Directory of the writer that produced it (this instance's, or a dead writer's being adopted). */
  dir: string;
  foreign: boolean;
}

export interface CorruptLine {
  line: number;
  raw: string;
}

export interface SpillStoreOptions {
  /** Root spill directory; each writer instance gets its own subdirectory `w-*`. */
  dir: string;
  /** Identity of the database the rows are for; only segments for the same target are adopted. */
  targetId: string;
  /** Rows per segment before a new one is started. */
  segmentMaxRows: number;
  /** A writer whose heartbeat is older than this (ms) is taken as dead and its segments adopted. */
  staleAfterMs: number;
  /** How often the owner file is touched (ms). */
  heartbeatMs: number;
}

interface OwnerFile {
  pid: number;
  hostname: string;
  targetId: string;
  startedAt: string;
}

// Instances alive in this process: a restarted container can reuse a dead writer's pid, so a
// pid equal to ours only proves liveness when the instance is really one of ours.
const liveInstances = new Set<string>();

/**
 * Durable JSONL spill for usage rows. Appends are serialised and fsync'd per group; a segment
 * is removed only after the caller committed its rows. Segments left by writers that died
 * (same host and pid gone, or heartbeat stale) are adopted for replay when their target is the
 * same database; two adopters racing is harmless because inserts are idempotent.
 */
export class SpillStore {
  readonly instanceId = `w-${Date.now().toString(36).padStart(9, '0')}-${process.pid}-${randomBytes(3).toString('hex')}`;
  readonly ownDir: string;
  private readonly quarantinePath: string;
  private chain: Promise<unknown> = Promise.resolve();
  private qchain: Promise<unknown> = Promise.resolve();
  private dirReady = false;
  private active: { path: string; fh: FileHandle; rows: number } | null = null;
  private seq = 0;
  private readonly closedOwn: Segment[] = [];
  private readonly foreign: Segment[] = [];
  private readonly foreignKnown = new Set<string>();
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: SpillStoreOptions) {
    this.ownDir = join(opts.dir, this.instanceId);
    this.quarantinePath = join(opts.dir, 'quarantine', `${this.instanceId}.jsonl`);
    liveInstances.add(this.instanceId);
  }

  /** Segments known to wait for replay (own closed ones, the active one if it has rows, adopted ones). */
  get backlogSegments(): number {
    return this.closedOwn.length + this.foreign.length + (this.active && this.active.rows > 0 ? 1 : 0);
  }

  hasBacklog(): boolean {
    return this.backlogSegments > 0;
  }

  /** Appends rows durably (written and fdatasync'd before the promise resolves). */
  append(rows: readonly UsageRow[]): Promise<void> {
    const run = this.chain.then(() => this.doAppend(rows));
    this.chain = run.catch(() => {});
    return run;
  }

  private async doAppend(rows: readonly UsageRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.ensureDir();
    // Fill segments up to segmentMaxRows, so a replay never has to read more than that at once.
    let i = 0;
    while (i < rows.length) {
      if (!this.active) await this.openSegment();
      const seg = this.active!;
      const n = Math.min(rows.length - i, this.opts.segmentMaxRows - seg.rows);
      let text = '';
      for (let k = i; k < i + n; k++) text += `${JSON.stringify(rows[k])}\n`;
      await seg.fh.write(text);
      await seg.fh.datasync();
      seg.rows += n;
      i += n;
      if (seg.rows >= this.opts.segmentMaxRows) await this.closeActive();
    }
  }

  /**
   * Appends synchronously: only for rows written after close(), where no event-loop turn may
   * be left. Blocks for one write + fsync.
   */
  appendSync(rows: readonly UsageRow[]): void {
    mkdirSync(this.ownDir, { recursive: true });
    writeFileSync(join(this.ownDir, 'owner.json'), JSON.stringify(this.owner()));
    const path = join(this.ownDir, `seg-${String(++this.seq).padStart(6, '0')}-late.jsonl`);
    const fd = openSync(path, 'a');
    try {
      appendFileSync(fd, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Appends a line to this instance's quarantine file (kept for people to inspect; never replayed). */
  quarantine(entry: Record<string, unknown>): Promise<void> {
    const run = this.qchain.then(async () => {
      await mkdir(join(this.opts.dir, 'quarantine'), { recursive: true });
      const fh = await open(this.quarantinePath, 'a');
      try {
        await fh.write(`${JSON.stringify({ at: new Date().toISOString(), ...entry })}\n`);
        await fh.datasync();
      } finally {
        await fh.close();
      }
    });
    this.qchain = run.catch(() => {});
    return run;
  }

  /**
   * The next segment to replay, oldest first: adopted segments of dead writers, then this
   * instance's closed ones. When only the active segment has rows it is closed first, so new
   * rows go to a fresh one while it is replayed.
   */
  async nextSegment(): Promise<Segment | null> {
    const f = this.foreign[0];
    if (f) return f;
    const own = this.closedOwn[0];
    if (own) return own;
    if (this.active && this.active.rows > 0) {
      await (this.chain = this.chain.then(() => this.closeActive()).catch(() => {}));
      return this.closedOwn[0] ?? null;
    }
    return null;
  }

  /** Reads a segment: valid rows in file order, and the lines that are not (a torn last write, say). */
  async readSegment(seg: Segment): Promise<{ rows: UsageRow[]; corrupt: CorruptLine[] } | null> {
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
  async removeSegment(seg: Segment): Promise<void> {
    await unlink(seg.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await fsyncDir(seg.dir);
    this.forget(seg);
    if (seg.foreign && !this.foreign.some((s) => s.dir === seg.dir)) await removeWriterDir(seg.dir);
  }

  private forget(seg: Segment): void {
    const list = seg.foreign ? this.foreign : this.closedOwn;
    const i = list.indexOf(seg);
    if (i >= 0) list.splice(i, 1);
  }

  /** Looks for directories of dead writers of the same target and queues their segments. Returns how many were added. */
  async adoptStale(): Promise<number> {
    let entries: string[];
    try {
      entries = await readdir(this.opts.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    let added = 0;
    for (const name of entries.sort()) {
      if (!name.startsWith('w-') || name === this.instanceId || liveInstances.has(name)) continue;
      const dir = join(this.opts.dir, name);
      if (!(await this.isStale(dir, name))) continue;
      let files: string[];
      try {
        files = (await readdir(dir)).filter((f) => f.startsWith('seg-') && f.endsWith('.jsonl')).sort();
      } catch {
        continue;
      }
      if (files.length === 0) {
        await removeWriterDir(dir);
        continue;
      }
      for (const f of files) {
        const path = join(dir, f);
        if (this.foreignKnown.has(path)) continue;
        this.foreignKnown.add(path);
        this.foreign.push({ path, dir, foreign: true });
        added++;
      }
    }
    return added;
  }

  private async isStale(dir: string, name: string): Promise<boolean> {
    const ownerPath = join(dir, 'owner.json');
    let owner: OwnerFile | undefined;
    let mtimeMs: number;
    try {
      const [text, st] = await Promise.all([readFile(ownerPath, 'utf8'), stat(ownerPath)]);
      owner = JSON.parse(text) as OwnerFile;
      mtimeMs = st.mtimeMs;
    } catch {
      // No readable owner file: a writer that died between mkdir and writing it, or one that is
      // being created right now. Only the directory's age can tell.
      try {
        mtimeMs = (await stat(dir)).mtimeMs;
      } catch {
        return false;
      }
      return Date.now() - mtimeMs > this.opts.staleAfterMs;
    }
    if (owner.targetId !== this.opts.targetId) return false;
    if (Date.now() - mtimeMs > this.opts.staleAfterMs) return true;
    if (owner.hostname !== hostname()) return false;
    if (owner.pid === process.pid) return !liveInstances.has(name);
    return !pidAlive(owner.pid);
  }

  /** Closes the active segment and stops the heartbeat; removes this instance's directory when nothing is left in it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain;
    await (this.chain = this.closeActive().catch(() => {}));
    await this.qchain;
    if (this.heartbeat) clearInterval(this.heartbeat);
    liveInstances.delete(this.instanceId);
    if (this.dirReady) {
      const left = (await readdir(this.ownDir).catch(() => [] as string[])).filter((f) => f.startsWith('seg-'));
      if (left.length === 0) await removeWriterDir(this.ownDir);
    }
  }

  private owner(): OwnerFile {
    return { pid: process.pid, hostname: hostname(), targetId: this.opts.targetId, startedAt: new Date().toISOString() };
  }

  private async ensureDir(): Promise<void> {
    if (this.dirReady) return;
    await mkdir(this.ownDir, { recursive: true });
    await writeFile(join(this.ownDir, 'owner.json'), JSON.stringify(this.owner()));
    await fsyncDir(this.ownDir);
    await fsyncDir(this.opts.dir);
    this.dirReady = true;
    this.heartbeat = setInterval(() => {
      const t = new Date();
      utimes(join(this.ownDir, 'owner.json'), t, t).catch(() => {});
    }, this.opts.heartbeatMs);
    this.heartbeat.unref();
  }

  private async openSegment(): Promise<void> {
    const path = join(this.ownDir, `seg-${String(++this.seq).padStart(6, '0')}.jsonl`);
    const fh = await open(path, 'a');
    await fsyncDir(this.ownDir);
    this.active = { path, fh, rows: 0 };
  }

  private async closeActive(): Promise<void> {
    const seg = this.active;
    if (!seg) return;
    this.active = null;
    await seg.fh.close();
    if (seg.rows > 0) this.closedOwn.push({ path: seg.path, dir: this.ownDir, foreign: false });
    else await unlink(seg.path).catch(() => {});
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the file data itself is already synced.
  } finally {
    await fh?.close().catch(() => {});
  }
}

async function removeWriterDir(dir: string): Promise<void> {
  await rm(join(dir, 'owner.json'), { force: true }).catch(() => {});
  await rmdir(dir).catch(() => {});
}
