import { execFileSync, spawnSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { AiError } from '@korean-together/core';
import { makeRecord, recordId, streamId } from '../../../test-support/usage.js';
import { onDisk, sleep, tempDir, until } from './sink-helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

// What the spill file and the JSONL sink leave on disk when the disk itself misbehaves: a file
// size limit that makes a write short, and a file that takes writes but refuses fdatasync.
describe('spill and JSONL appends on a full disk (file size limit)', () => {
  it('a short write is cut back: every line on disk parses and the counts say exactly what is there', async () => {
    const dir = await tempDir('fsize');
    const fixture = fileURLToPath(new URL('./fixtures/full-disk-child.ts', import.meta.url));
    // RLIMIT_FSIZE makes a write that crosses the limit short, and the next one fail (EFBIG).
    const r = spawnSync('sh', ['-c', `ulimit -f 64 && exec "${process.execPath}" --import tsx "${fixture}" "${dir}"`], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { spillOk: string[]; spillTried: number; jsonl: { written: number; pending: number; dropped: number } };
    expect(out.spillTried).toBeGreaterThan(out.spillOk.length);
    const spill = await onDisk(join(dir, 'spill'));
    expect(spill.torn).toBe(0);
    expect([...spill.ids].sort()).toEqual([...out.spillOk].sort());
    const lines = (await readFile(join(dir, 'usage.jsonl'), 'utf8')).split('\n').filter(Boolean);
    for (const l of lines) expect(() => JSON.parse(l) as unknown).not.toThrow();
    expect(lines.length).toBe(out.jsonl.written);
    expect(out.jsonl.dropped).toBeGreaterThan(0);
    expect(out.jsonl.pending).toBe(0);
    await rm(dir, { recursive: true, force: true });
  });
});

describe.runIf(process.platform === 'linux')('createJsonlSink when fdatasync fails', () => {
  it('does not append the same records again when only the sync failed', async () => {
    const { createJsonlSink } = await import('../src/jsonl-sink.js');
    const dir = await tempDir('fifo');
    const path = join(dir, 'pipe');
    // A FIFO takes writes but refuses fdatasync (EINVAL): the write happened, the sync did not.
    execFileSync('mkfifo', [path]);
    const { createReadStream } = await import('node:fs');
    const reader = createReadStream(path, { encoding: 'utf8' });
    let received = '';
    reader.on('data', (d) => (received += String(d)));
    const errors: AiError[] = [];
    const sink = createJsonlSink({ path, onError: (e) => errors.push(e) });
    const s = streamId();
    for (let i = 0; i < 3; i++) sink.write(makeRecord(s, i));
    await sink.flush();
    await sink.flush();
    await sink.flush();
    sink.write(makeRecord(s, 3));
    await sink.flush();
    await until(() => received.split('\n').filter(Boolean).length >= 3, 'the reader to get the rows');
    await sleep(50);
    const ids = received.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: string }).id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.slice(0, 3)).toEqual([0, 1, 2].map((i) => recordId(s, i)));
    expect(errors.some((e) => /fdatasync/.test(e.message))).toBe(true);
    await sink.close();
    reader.destroy();
  });
});
