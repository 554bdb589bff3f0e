import { existsSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAiClient, type EvalProvider } from '@korean-together/core';
import { TcpProxy } from '../../../test-support/tcp-proxy.js';
import { makeRecord, streamId } from '../../../test-support/usage.js';
import { createPostgresSink, type UsageLogError } from '../src/index.js';
import { tempDir } from './sink-helpers.js';

const goodEval = { score: 85, passFail: true, primaryErrorType: null, errors: [], suggestions: ['계속 연습하세요'], rationale: 'Correct and polite.' };

/** An evaluator that answers at once: the calls succeed, each leaving one usage row to store. */
const instantEval: EvalProvider = {
  capability: 'eval',
  name: 'instant-eval',
  modelId: 'gemini-2.5-flash',
  evaluate: async () => ({ output: goodEval, tokensIn: 100, tokensOut: 20 }),
};

/** This sink instance's own spill directory (created at its first spill). */
const spillInstanceDir = (sink: unknown) => (sink as { spillInstanceDir: string }).spillInstanceDir;

/** Settles with 'settled', or with 'still pending' after `ms` (the bound the test allows, well past the documented deadlines). */
function within(p: Promise<unknown>, ms: number): Promise<'settled' | 'still pending'> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(
      () => 'settled' as const,
      () => 'settled' as const,
    ),
    new Promise<'still pending'>((r) => {
      t = setTimeout(() => r('still pending'), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

// The disk-full half needs a real ENOSPC: Linux's /dev/full fails every write with it. The spill
// writer creates its own files, so the test puts a symlink to /dev/full where this sink's first
// segment will be opened (its instance directory is known before the first spill): every append
// then really fails with ENOSPC from the kernel, with no injected file system.
describe.runIf(process.platform === 'linux' && existsSync('/dev/full'))('client.close() with the database down and the spill disk full', () => {
  it('client.close() and sink.close() finish within their deadlines; every row is counted as dropped and reported', async () => {
    // The database is down: a proxy port that refuses connections (nothing listens any more).
    const proxy = new TcpProxy('127.0.0.1', 1);
    await proxy.start();
    await proxy.cut('refuse');
    const spillDir = await tempDir('client-close');
    const sinkErrors: UsageLogError[] = [];
    const background: { where: string; error: unknown }[] = [];
    const flushTimeoutMs = 800;
    const closeTimeoutMs = 1000;
    const sink = createPostgresSink({
      connectionString: `postgresql://postgres@127.0.0.1:${proxy.port}/usage`,
      spillDir,
      flushTimeoutMs,
      closeTimeoutMs,
      flushIntervalMs: 20,
      retryInitialDelayMs: 20,
      retryMaxDelayMs: 50,
      connectionTimeoutMillis: 300,
      onError: (e) => sinkErrors.push(e),
    });
    const own = spillInstanceDir(sink);
    await mkdir(own, { recursive: true });
    await symlink('/dev/full', join(own, 'seg-000001.jsonl.open'));

    const client = createAiClient({
      policy: { capabilities: { eval: { chain: ['instant'] } } },
      providers: { instant: instantEval },
      sinks: [sink],
      events: { onBackgroundError: (e) => background.push(e) },
    });
    const calls = 30;
    for (let i = 0; i < calls; i++) await client.eval.evaluate({ prompt: '인사하세요', learnerAnswer: '안녕하세요' });
    // Let the sink find out: the database refuses, the spill file is full.
    const spillFailure = () => sinkErrors.find((e) => e.reason === 'spill_failed');
    for (let i = 0; i < 200 && !spillFailure(); i++) await new Promise((r) => setTimeout(r, 10));
    expect((spillFailure()?.cause as NodeJS.ErrnoException | undefined)?.code).toBe('ENOSPC');

    // client.close() flushes (bounded by flushTimeoutMs), then closes the sink (closeTimeoutMs).
    const bound = 3 * (flushTimeoutMs + closeTimeoutMs);
    expect(await within(client.close(), bound)).toBe('settled');
    expect(await within(sink.close(), closeTimeoutMs)).toBe('settled');
    await proxy.close();

    const st = sink.stats();
    expect(st).toMatchObject({ written: 0, spilled: 0, pending: 0, dropped: calls, databaseUp: false });
    // Reported with structured reasons, never silently: the flush that gave up, the rows lost.
    expect(background.map((e) => e.where)).toEqual(['sink']);
    expect(background[0]!.error).toMatchObject({ name: 'UsageLogError', code: 'timeout', reason: 'flush_timeout', rows: calls });
    const dropped = sinkErrors.filter((e) => e.reason === 'rows_dropped');
    expect(dropped.reduce((n, e) => n + (e.rows ?? 0), 0)).toBe(calls);
    expect(sinkErrors.filter((e) => e.reason === 'database_unavailable')).toHaveLength(1);
    // The spill kept failing through many retries: reported once per failing streak, not per retry.
    expect(sinkErrors.filter((e) => e.reason === 'spill_failed')).toHaveLength(1);
  });

  it('flush() on its own rejects at flushTimeoutMs with the rows not yet durable; they stay queued', async () => {
    const proxy = new TcpProxy('127.0.0.1', 1);
    await proxy.start();
    await proxy.cut('refuse');
    const spillDir = await tempDir('flush-timeout');
    const sink = createPostgresSink({
      connectionString: `postgresql://postgres@127.0.0.1:${proxy.port}/usage`,
      spillDir,
      flushTimeoutMs: 300,
      closeTimeoutMs: 1000,
      retryInitialDelayMs: 20,
      retryMaxDelayMs: 50,
    });
    await mkdir(spillInstanceDir(sink), { recursive: true });
    await symlink('/dev/full', join(spillInstanceDir(sink), 'seg-000001.jsonl.open'));
    const s = streamId();
    for (let i = 0; i < 5; i++) sink.write(makeRecord(s, i));
    await expect(sink.flush()).rejects.toMatchObject({ name: 'UsageLogError', code: 'timeout', reason: 'flush_timeout', rows: 5 });
    expect(sink.stats()).toMatchObject({ pending: 5, dropped: 0 });
    await sink.close();
    expect(sink.stats()).toMatchObject({ pending: 0, dropped: 5 });
    await proxy.close();
  });
});
