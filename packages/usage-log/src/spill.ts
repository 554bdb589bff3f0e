import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock } from '@korean-together/core';
import { repeatInBackground } from './timers.js';
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

/** A dead writer's directory for the same table in another database: never replayed here, only reported. */
export interface ForeignSpill {
  /** Directory name under the spill root (`w-...`). */
  name: string;
  /** Segment files in it. */
  segments: number;
  /** What its owner file says the rows are for. */
  targetId: string;
  databaseId?: string;
}

export interface SpillStoreOptions {
  /** Root spill directory; each writer instance gets its own subdirectory `w-*`. */
  dir: string;
  /** The database and table as configured (address hashed): decides for owner files without a `databaseId`. */
  targetId: string;
  /** `schema.table`: foreign directories are reported only for the same table (others belong to other sinks sharing the directory). */
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

/** Segment file names: the one being appended to ends in `.open` and is not adopted while its writer lives. */
const OPEN_SUFFIX = '.open';
const CLOSED_SEGMENT = /^seg-\d+(?:-late)?\.jsonl$/;
const OPEN_SEGMENT = /^seg-\d+(?:-late)?\.jsonl\.open$/;

interface OwnerFile {
  pid: number;
  hostname: string;
  /** The target as configured (the only key of earlier versions). */
  targetId: string;
  /** What the database said it is, once the writer reached it: decides over `targetId` when both sides know theirs. */
  databaseId?: string;
  startedAt: string;
}

// Instances alive in this process: a restarted container can reuse a dead writer's pid, so a
// pid equal to ours only proves liveness when the instance is really one of ours.
const liveInstances = new Set<string>();

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
 * Durable JSONL spill for usage rows. Appends are serialised and fsync'd per group; a segment
 * is removed only after the caller committed its rows. The segment being appended to carries
 * an `.open` suffix and is renamed when it is closed; adopters take only closed segments of a
 * live-looking writer. Directories of writers that died (same host and pid gone, or, from
 * another host, heartbeat stale) are adopted for replay, open segment included, when their
 * owner file is valid and names the same database; two adopters racing is harmless because
 * inserts are idempotent. A writer wrongly taken for dead notices that its open segment was
 * renamed or unlinked and copies its content to a new segment, so no row is lost either way.
 */
export class SpillStore {
  readonly instanceId = `w-${Date.now().toString(36).padStart(9, '0')}-${process.pid}-${randomBytes(3).toString('hex')}`;
  readonly ownDir: string;
  private readonly quarantinePath: string;
  private chain: Promise<unknown> = Promise.resolve();
  private qchain: Promise<unknown> = Promise.resolve();
  private qPending: string[] = [];
  private qBatch: Promise<void> | null = null;
  private dirReady = false;
  private active: ActiveSegment | null = null;
  private seq = 0;
  private readonly closedOwn: Segment[] = [];
  private readonly foreign: Segment[] = [];
  private readonly foreignKnown = new Set<string>();
  private heartbeat: { stop(): void } | undefined;
  private closed = false;
  /** Set once the database answered (or would not say what it is): until then no directory is adopted by `databaseId`. */
  private identity: { databaseId: string | undefined } | undefined;
  private readonly startedAt = new Date().toISOString();
  /** Dead writers' directories for this table in another database, as of the last scan. */
  foreignDirs: ForeignSpill[] = [];

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

  /**
   * Appends rows durably (every byte written and fdatasync'd before the promise resolves).
   * On failure nothing of this call stays in the file: a partial write is truncated away.
   */
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
      else if (seg.rows >= this.opts.segmentMaxRows) await this.closeActive();
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

  /**
   * Appends synchronously: only for rows written after close(), where no event-loop turn may
   * be left. Blocks for one write + fsync. The file is written under its open name and renamed
   * once complete, so an adopter never takes it half-written.
   */
  appendSync(rows: readonly UsageRow[]): void {
    mkdirSync(this.ownDir, { recursive: true });
    if (!existsSync(join(this.ownDir, 'owner.json'))) writeOwnerSync(this.ownDir, this.owner());
    const closedPath = join(this.ownDir, `seg-${String(++this.seq).padStart(6, '0')}-late.jsonl`);
    const openPath = closedPath + OPEN_SUFFIX;
    const fd = openSync(openPath, 'w');
    try {
      const buf = Buffer.from(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
      let off = 0;
      while (off < buf.length) {
        const n = writeSync(fd, buf, off, buf.length - off);
        if (n <= 0) throw new Error(`short write to ${openPath}`);
        off += n;
      }
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
    fsyncDirSync(this.ownDir);
  }

  /**
   * Appends a line to this instance's quarantine file (kept for people to inspect; never
   * replayed). Entries queued while a write is under way go out together: one write and one
   * fdatasync per group, not per entry.
   */
  quarantine(entry: Record<string, unknown>): Promise<void> {
    this.qPending.push(`${JSON.stringify({ at: new Date().toISOString(), ...entry })}\n`);
    if (this.qBatch) return this.qBatch;
    const batch = this.qchain.then(async () => {
      this.qBatch = null;
      const lines = this.qPending;
      this.qPending = [];
      await mkdir(join(this.opts.dir, 'quarantine'), { recursive: true });
      const fh = await open(this.quarantinePath, 'a');
      try {
        await writeAll(fh, Buffer.from(lines.join('')));
        await fh.datasync();
      } finally {
        await fh.close();
      }
    });
    this.qBatch = batch;
    this.qchain = batch.catch(() => {});
    return batch;
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

  /** Puts a segment that could not be replayed at the back of its queue, so the others go first. */
  defer(seg: Segment): void {
    const list = seg.foreign ? this.foreign : this.closedOwn;
    const i = list.indexOf(seg);
    if (i < 0) return;
    list.splice(i, 1);
    list.push(seg);
  }

  /**
   * Takes a segment that keeps failing out of the replay queue and moves it (when it can) to
   * `quarantine/segments/` for people to look at. Resolves to where it went, or null when it
   * could not be moved (it is then only skipped by this instance).
   */
  async setAside(seg: Segment): Promise<string | null> {
    this.forget(seg);
    const parts = seg.path.split(/[\\/]/);
    const dest = join(this.opts.dir, 'quarantine', 'segments', `${parts.at(-2)}-${parts.at(-1)}`);
    try {
      await mkdir(join(this.opts.dir, 'quarantine', 'segments'), { recursive: true });
      await rename(seg.path, dest);
      await fsyncDir(seg.dir);
      return dest;
    } catch {
      return null;
    } finally {
      if (seg.foreign && !this.foreign.some((s) => s.dir === seg.dir)) await removeWriterDir(seg.dir);
    }
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

  /**
   * What the database says it is (`databaseId`), or undefined when it will not say. Written to
   * this writer's owner file (rewritten if it exists), so a writer configured with another
   * spelling of the same database's address adopts these segments.
   */
  setIdentity(databaseId: string | undefined): void {
    this.identity = { databaseId };
    if (!databaseId || this.closed) return;
    this.chain = this.chain.then(async () => {
      if (this.dirReady) await writeOwner(this.ownDir, this.owner());
    }).catch(() => {});
  }

  /**
   * Looks for directories of dead writers: queues the segments of those for the same target
   * and returns how many were added; lists those for the same table in another database in
   * `foreignDirs`.
   */
  async adoptStale(): Promise<number> {
    let entries: string[];
    try {
      entries = await readdir(this.opts.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    let added = 0;
    const foreign: ForeignSpill[] = [];
    for (const name of entries.sort()) {
      if (!name.startsWith('w-') || name === this.instanceId || liveInstances.has(name)) continue;
      const dir = join(this.opts.dir, name);
      const owner = await readOwner(dir);
      if (!owner || !this.isDead(owner, name)) continue;
      const match = this.sameTarget(owner.file);
      if (match === 'undecided') continue;
      let files: string[];
      try {
        files = await readdir(dir);
      } catch {
        continue;
      }
      if (match === 'other') {
        const segments = files.filter((f) => CLOSED_SEGMENT.test(f) || OPEN_SEGMENT.test(f)).length;
        if (segments > 0 && relationOf(owner.file.databaseId ?? owner.file.targetId) === (this.opts.relation ?? relationOf(this.opts.targetId))) {
          foreign.push({ name, segments, targetId: owner.file.targetId, ...(owner.file.databaseId && { databaseId: owner.file.databaseId }) });
        }
        continue;
      }
      // The writer is gone: its open segment will never be closed by it, so close it here.
      for (const f of files.filter((x) => OPEN_SEGMENT.test(x))) {
        await rename(join(dir, f), join(dir, f.slice(0, -OPEN_SUFFIX.length))).catch(() => {});
      }
      if (files.some((x) => OPEN_SEGMENT.test(x))) {
        await fsyncDir(dir);
        files = await readdir(dir).catch(() => [] as string[]);
      }
      const segs = files.filter((f) => CLOSED_SEGMENT.test(f)).sort();
      if (segs.length === 0) {
        if (!files.some((f) => f.startsWith('seg-'))) await removeWriterDir(dir);
        continue;
      }
      for (const f of segs) {
        const path = join(dir, f);
        if (this.foreignKnown.has(path)) continue;
        this.foreignKnown.add(path);
        this.foreign.push({ path, dir, foreign: true });
        added++;
      }
    }
    this.foreignDirs = foreign;
    return added;
  }

  /**
   * Whether a writer's rows are for this sink's database and table. When both sides know what
   * the database says it is, that decides (the same database reached under another host name,
   * or after a failover, matches; another database behind the same address does not).
   * Otherwise the configured target decides, as it did before databases were asked: a writer
   * that never reached its database, or an owner file of an earlier version. A directory that
   * names a database while this sink does not know its own yet waits for the next scan.
   */
  private sameTarget(owner: OwnerFile): 'same' | 'other' | 'undecided' {
    const ours = this.identity?.databaseId;
    if (owner.databaseId && ours) return owner.databaseId === ours ? 'same' : 'other';
    if (owner.databaseId && !this.identity) return 'undecided';
    return owner.targetId === this.opts.targetId ? 'same' : 'other';
  }

  /**
   * Whether the writer of a directory is dead. On the same host the pid decides (a paused or
   * slow writer is alive however old its heartbeat); from another host only the heartbeat can tell.
   */
  private isDead(owner: { file: OwnerFile; mtimeMs: number }, name: string): boolean {
    if (owner.file.hostname === hostname()) {
      if (owner.file.pid === process.pid) return !liveInstances.has(name);
      return !pidAlive(owner.file.pid);
    }
    return Date.now() - owner.mtimeMs > this.opts.staleAfterMs;
  }

  /** Closes the active segment and stops the heartbeat; removes this instance's directory when nothing is left in it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain;
    await (this.chain = this.closeActive().catch(() => {}));
    await this.qchain;
    this.heartbeat?.stop();
    liveInstances.delete(this.instanceId);
    if (this.dirReady) {
      const left = (await readdir(this.ownDir).catch(() => [] as string[])).filter((f) => f.startsWith('seg-'));
      if (left.length === 0) await removeWriterDir(this.ownDir);
    }
  }

  private owner(): OwnerFile {
    const databaseId = this.identity?.databaseId;
    return { pid: process.pid, hostname: hostname(), targetId: this.opts.targetId, ...(databaseId && { databaseId }), startedAt: this.startedAt };
  }

  private async ensureDir(): Promise<void> {
    if (this.dirReady) return;
    await mkdir(this.ownDir, { recursive: true });
    await writeOwner(this.ownDir, this.owner());
    await fsyncDir(this.opts.dir);
    this.dirReady = true;
    this.heartbeat = repeatInBackground(this.opts.clock ?? systemClock, this.opts.heartbeatMs, () => {
      const t = new Date();
      utimes(join(this.ownDir, 'owner.json'), t, t).catch(() => {});
    });
  }

  private async openSegment(): Promise<void> {
    const path = join(this.ownDir, `seg-${String(++this.seq).padStart(6, '0')}.jsonl${OPEN_SUFFIX}`);
    // 'a+': readable too, so a segment taken by an adopter can be read back (see rescue()).
    const fh = await open(path, 'a+');
    const st = await fh.stat();
    await fsyncDir(this.ownDir);
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
    await fsyncDir(this.ownDir);
    this.closedOwn.push({ path: closedPath, dir: this.ownDir, foreign: false });
  }
}

function isOwnerFile(o: unknown): o is OwnerFile {
  if (typeof o !== 'object' || o === null) return false;
  const r = o as Record<string, unknown>;
  return (
    Number.isInteger(r.pid) &&
    typeof r.hostname === 'string' &&
    r.hostname !== '' &&
    typeof r.targetId === 'string' &&
    r.targetId !== '' &&
    (r.databaseId === undefined || (typeof r.databaseId === 'string' && r.databaseId !== ''))
  );
}

/**
 * A directory's owner file and when it was last touched (the heartbeat). Null without a valid
 * one: rows of unknown destination are never replayed, nor reported as another database's.
 */
async function readOwner(dir: string): Promise<{ file: OwnerFile; mtimeMs: number } | null> {
  const ownerPath = join(dir, 'owner.json');
  try {
    const [text, st] = await Promise.all([readFile(ownerPath, 'utf8'), stat(ownerPath)]);
    const file = JSON.parse(text) as unknown;
    return isOwnerFile(file) ? { file, mtimeMs: st.mtimeMs } : null;
  } catch {
    return null;
  }
}

/** The `schema.table` a target or database id ends with (identifiers never contain a colon). */
function relationOf(id: string): string {
  return id.slice(id.lastIndexOf(':') + 1);
}

/** Writes every byte of `buf` (a single write may be short, on a full disk say). */
async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    if (bytesWritten <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    off += bytesWritten;
  }
}

/** owner.json is written whole or not at all (temp file, fsync, rename): a torn one would hide a writer's target. */
async function writeOwner(dir: string, owner: OwnerFile): Promise<void> {
  const tmp = join(dir, `owner.json.tmp-${randomBytes(3).toString('hex')}`);
  const fh = await open(tmp, 'w');
  try {
    await writeAll(fh, Buffer.from(JSON.stringify(owner)));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, 'owner.json'));
  await fsyncDir(dir);
}

function writeOwnerSync(dir: string, owner: OwnerFile): void {
  const tmp = join(dir, `owner.json.tmp-${randomBytes(3).toString('hex')}`);
  const fd = openSync(tmp, 'w');
  try {
    const buf = Buffer.from(JSON.stringify(owner));
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, 'owner.json'));
  fsyncDirSync(dir);
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

function fsyncDirSync(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // As fsyncDir.
  }
}

async function removeWriterDir(dir: string): Promise<void> {
  await rm(join(dir, 'owner.json'), { force: true }).catch(() => {});
  await rmdir(dir).catch(() => {});
}
