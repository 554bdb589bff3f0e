import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock } from '@korean-together/core';
import { fsyncDir, writeFileWhole, writeFileWholeSync } from './durable-file.js';
import { CLOSED_SEGMENT, isSegmentFile, isWriterDirName, OPEN_SEGMENT, OPEN_SUFFIX, OWNER_FILE } from './spill-layout.js';
import { repeatInBackground } from './timers.js';

/** What a writer directory's owner file says. */
interface OwnerFile {
  pid: number;
  hostname: string;
  /** The target as configured (the only key of earlier versions). */
  targetId: string;
  /** What the database said it is, once the writer reached it: decides over `targetId` when both sides know theirs. */
  databaseId?: string;
  startedAt: string;
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

export interface SpillOwnershipOptions {
  /** The spill root. */
  dir: string;
  /** The database and table as configured (address hashed): decides for owner files without a `databaseId`. */
  targetId: string;
  /** `schema.table`: foreign directories are reported only for the same table (others belong to other sinks sharing the directory). Default: the end of targetId. */
  relation?: string;
  /** A writer on another host whose heartbeat is older than this (ms) is taken as dead. */
  staleAfterMs: number;
  /** How often the owner file is touched (ms). */
  heartbeatMs: number;
  /** Timers of the heartbeat (background ones). Default core's systemClock. */
  clock?: Clock;
}

/** The dead writers' directories a scan found: for this target (their closed segments, to adopt) and for the same table elsewhere. */
export interface ScanResult {
  adoptable: { dir: string; segments: string[] }[];
  foreign: ForeignSpill[];
}

// Instances alive in this process: a restarted container can reuse a dead writer's pid, so a
// pid equal to ours only proves liveness when the instance is really one of ours.
const liveInstances = new Set<string>();

/**
 * Who owns which spill directory. This instance's directory carries an owner file (pid, host,
 * target, and once known what the database says it is), written whole and touched as a
 * heartbeat. A scan finds the directories of dead writers (same host: the pid is gone; another
 * host: no heartbeat for staleAfterMs) and sorts them: written for this database and table
 * (their open segment closed here, to be adopted), for the same table elsewhere (reported),
 * or someone else's business. A directory without a valid owner file is never touched.
 */
export class SpillOwnership {
  readonly instanceId = `w-${Date.now().toString(36).padStart(9, '0')}-${process.pid}-${randomBytes(3).toString('hex')}`;
  readonly ownDir: string;
  private claimed = false;
  private heartbeat: { stop(): void } | undefined;
  /** Set once the database answered (or would not say what it is): until then no directory is matched by `databaseId`. */
  private identity: { databaseId: string | undefined } | undefined;
  private readonly startedAt = new Date().toISOString();

  constructor(private readonly o: SpillOwnershipOptions) {
    this.ownDir = join(o.dir, this.instanceId);
    liveInstances.add(this.instanceId);
  }

  /** What the database says it is, or undefined when it will not say (then the configured target decides). */
  setIdentity(databaseId: string | undefined): void {
    this.identity = { databaseId };
  }

  /** Creates this instance's directory with its owner file (once), then keeps the heartbeat going. */
  async claim(): Promise<void> {
    if (this.claimed) return;
    await mkdir(this.ownDir, { recursive: true });
    await writeFileWhole(join(this.ownDir, OWNER_FILE), JSON.stringify(this.owner()));
    await fsyncDir(this.o.dir);
    this.claimed = true;
    this.heartbeat = repeatInBackground(this.o.clock ?? systemClock, this.o.heartbeatMs, () => {
      const t = new Date();
      utimes(join(this.ownDir, OWNER_FILE), t, t).catch(() => {});
    });
  }

  /** claim() without waiting (rows written after close()): the directory and an owner file, no heartbeat. */
  claimSync(): void {
    mkdirSync(this.ownDir, { recursive: true });
    const path = join(this.ownDir, OWNER_FILE);
    if (!existsSync(path)) writeFileWholeSync(path, JSON.stringify(this.owner()));
  }

  /** Rewrites the owner file (it now names the database), if the directory exists by the time this runs. */
  async rewriteOwner(): Promise<void> {
    if (this.claimed) await writeFileWhole(join(this.ownDir, OWNER_FILE), JSON.stringify(this.owner()));
  }

  /** Stops the heartbeat; removes this instance's directory when no segment is left in it. */
  async release(): Promise<void> {
    this.heartbeat?.stop();
    liveInstances.delete(this.instanceId);
    if (!this.claimed) return;
    const left = (await readdir(this.ownDir).catch(() => [] as string[])).filter(isSegmentFile);
    if (left.length === 0) await removeWriterDir(this.ownDir);
  }

  /**
   * Looks for directories of dead writers. Those for this target get their open segment closed
   * (renamed: its writer will never do it) and are listed with their closed segments; empty ones
   * are removed. Those for the same table in another database are listed as foreign.
   */
  async scan(): Promise<ScanResult> {
    const result: ScanResult = { adoptable: [], foreign: [] };
    let entries: string[];
    try {
      entries = await readdir(this.o.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return result;
      throw err;
    }
    for (const name of entries.sort()) {
      if (!isWriterDirName(name) || name === this.instanceId || liveInstances.has(name)) continue;
      const dir = join(this.o.dir, name);
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
        if (segments > 0 && relationOf(owner.file.databaseId ?? owner.file.targetId) === (this.o.relation ?? relationOf(this.o.targetId))) {
          result.foreign.push({ name, segments, targetId: owner.file.targetId, ...(owner.file.databaseId && { databaseId: owner.file.databaseId }) });
        }
        continue;
      }
      const open = files.filter((f) => OPEN_SEGMENT.test(f));
      for (const f of open) await rename(join(dir, f), join(dir, f.slice(0, -OPEN_SUFFIX.length))).catch(() => {});
      if (open.length > 0) {
        await fsyncDir(dir);
        files = await readdir(dir).catch(() => [] as string[]);
      }
      const segments = files.filter((f) => CLOSED_SEGMENT.test(f)).sort();
      if (segments.length > 0) result.adoptable.push({ dir, segments });
      else if (!files.some(isSegmentFile)) await removeWriterDir(dir);
    }
    return result;
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
    return owner.targetId === this.o.targetId ? 'same' : 'other';
  }

  /**
   * Whether the writer of a directory is dead. On the same host the pid decides (a paused or
   * slow writer is alive however old its heartbeat); from another host only the heartbeat can
   * tell. File times are wall-clock times: compared with the wall clock, not the sink's clock.
   */
  private isDead(owner: { file: OwnerFile; mtimeMs: number }, name: string): boolean {
    if (owner.file.hostname === hostname()) {
      if (owner.file.pid === process.pid) return !liveInstances.has(name);
      return !pidAlive(owner.file.pid);
    }
    return Date.now() - owner.mtimeMs > this.o.staleAfterMs;
  }

  private owner(): OwnerFile {
    const databaseId = this.identity?.databaseId;
    return { pid: process.pid, hostname: hostname(), targetId: this.o.targetId, ...(databaseId && { databaseId }), startedAt: this.startedAt };
  }
}

/** Removes a writer directory that holds no segment any more (its owner file first). */
export async function removeWriterDir(dir: string): Promise<void> {
  await rm(join(dir, OWNER_FILE), { force: true }).catch(() => {});
  await rmdir(dir).catch(() => {});
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
  const ownerPath = join(dir, OWNER_FILE);
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

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
