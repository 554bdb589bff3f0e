import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AiError } from '@korean-together/core';
import { makeRecord, streamId } from '../../../test-support/usage.js';
import { createJsonlSink } from './jsonl-sink.js';
import { tempDir } from '../test/sink-helpers.js';
import { normalizeUsage, rowToRecord } from './usage-row.js';

describe('createJsonlSink', () => {
  it('appends one validated row per line, durable after flush(), readable back exactly', async () => {
    const dir = await tempDir('jsonl');
    const path = join(dir, 'nested', 'usage.jsonl');
    const sink = createJsonlSink({ path, batchSize: 10 });
    const s = streamId();
    const records = Array.from({ length: 25 }, (_, i) => makeRecord(s, i));
    for (const r of records) sink.write(r);
    sink.write({ ...records[0]!, id: 'nope' });
    expect(sink.stats().pending).toBe(25);
    await sink.flush();
    expect(sink.stats()).toMatchObject({ written: 25, pending: 0, failed: 1, dropped: 0 });
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(25);
    const back = lines.map((l) => {
      const n = normalizeUsage(JSON.parse(l));
      if (!n.ok) throw new Error(n.reason);
      return rowToRecord(n.row);
    });
    expect(back).toEqual(records);
    sink.write(makeRecord(s, 99));
    await sink.close();
    expect((await readFile(path, 'utf8')).trimEnd().split('\n')).toHaveLength(26);
  });

  it('keeps records and retries when the file cannot be written', async () => {
    const dir = await tempDir('jsonl-fail');
    // A directory where the file should be: every append fails.
    const path = join(dir, 'blocked');
    await import('node:fs/promises').then((fs) => fs.mkdir(path));
    const errors: string[] = [];
    const sink = createJsonlSink({ path, onError: (e) => errors.push(e.code) });
    sink.write(makeRecord(streamId(), 1));
    await sink.flush();
    expect(sink.stats()).toMatchObject({ written: 0, pending: 1, dropped: 0 });
    expect(errors).toContain('unavailable');
  });

  it('close() counts records it could not append in dropped, reports them, and leaves none pending', async () => {
    const dir = await tempDir('jsonl-close-fail');
    const path = join(dir, 'blocked');
    await import('node:fs/promises').then((fs) => fs.mkdir(path));
    const errors: AiError[] = [];
    const sink = createJsonlSink({ path, onError: (e) => errors.push(e) });
    sink.write(makeRecord(streamId(), 1));
    sink.write(makeRecord(streamId(), 2));
    await sink.close();
    expect(sink.stats()).toMatchObject({ written: 0, pending: 0, dropped: 2 });
    expect(errors.some((e) => /2 record\(s\).*lost/.test(e.message))).toBe(true);
  });

  it('needs a path', () => {
    expect(() => createJsonlSink({ path: '' })).toThrow(/needs `path`/);
  });
});
