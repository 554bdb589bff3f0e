import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { mkdir, open, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes every byte of `buf` (a single write may be short, on a full disk say). */
export async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    if (bytesWritten <= 0) throw noProgress(off);
    off += bytesWritten;
  }
}

/** writeAll for a descriptor, blocking: only where no event-loop turn is left (rows written after close()). */
export function writeAllSync(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) {
    const n = writeSync(fd, buf, off, buf.length - off);
    if (n <= 0) throw noProgress(off);
    off += n;
  }
}

function noProgress(off: number): Error {
  return Object.assign(new Error(`write made no progress at byte ${off}`), { code: 'EIO' });
}

/** Makes a directory's entries (a created, renamed or removed file) durable. */
export async function fsyncDir(dir: string): Promise<void> {
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

export function fsyncDirSync(dir: string): void {
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

/** Writes `path` whole or not at all: a temporary file beside it, fsync'd, renamed over it, the directory fsync'd. */
export async function writeFileWhole(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(3).toString('hex')}`;
  await writeSynced(tmp, 'w', data, 'sync');
  await rename(tmp, path);
  await fsyncDir(dirname(path));
}

/** writeFileWhole, blocking. */
export function writeFileWholeSync(path: string, data: string): void {
  const tmp = `${path}.tmp-${randomBytes(3).toString('hex')}`;
  const fd = openSync(tmp, 'w');
  try {
    writeAllSync(fd, Buffer.from(data));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDirSync(dirname(path));
}

/** Appends `text` to `path` (created with its directory) and fdatasyncs it before resolving. */
export async function appendDurably(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeSynced(path, 'a', text, 'datasync');
}

/** Opens `path` with `flags`, writes all of `data`, syncs it (`datasync`: the data, not every timestamp), closes it. */
async function writeSynced(path: string, flags: 'w' | 'a', data: string, how: 'sync' | 'datasync'): Promise<void> {
  const fh = await open(path, flags);
  try {
    await writeAll(fh, Buffer.from(data));
    await fh[how]();
  } finally {
    await fh.close();
  }
}

