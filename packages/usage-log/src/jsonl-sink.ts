import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AiError, safeProviderText, type UsageRecord, type UsageSink } from '@korean-together/core';
import { normalizeUsage, type UsageRow } from './usage-row.js';

export interface JsonlSinkOptions {
  /** File to append to (created with its directory). One validated row per line, the spill-file format. */
  path: string;
  /** Longest time a record waits in memory before it is appended, in milliseconds. Default 250. */
  flushIntervalMs?: number;
  /** Records per append (and fdatasync). Default 1000. */
  batchSize?: number;
  /** Told about append failures (records are kept and retried) and refused records. */
  onError?: (error: AiError) => void;
}

export interface JsonlSinkStats {
  /** Records appended and fdatasync'd. */
  written: number;
  /** Records in memory, not yet on disk. */
  pending: number;
  /** Records refused at write() (not a valid usage record). */
  failed: number;
  /** Records stored with a clamped value. */
  clamped: number;
  /** Always 0: records are kept in memory until an append succeeds. */
  dropped: number;
}

export type JsonlSink = UsageSink & { stats(): JsonlSinkStats };

/** Appends usage rows as JSON lines, batched and fdatasync'd; for hosts without a database, or as an audit trail beside one. */
export function createJsonlSink(options: JsonlSinkOptions): JsonlSink {
  if (typeof options?.path !== 'string' || options.path === '') {
    throw new AiError('invalid_config', 'usage-log: createJsonlSink needs `path`', { retryable: false });
  }
  const batchSize = options.batchSize ?? 1000;
  let buffer: UsageRow[] = [];
  let fh: FileHandle | undefined;
  let chain: Promise<void> = Promise.resolve();
  let closed = false;
  const s = { written: 0, failed: 0, clamped: 0, dropped: 0 };
  const report = (e: AiError) => {
    try {
      options.onError?.(e);
    } catch {
      // ignore a failing hook
    }
  };

  const appendNow = (): Promise<void> => {
    chain = chain.then(async () => {
      if (buffer.length === 0) return;
      const rows = buffer;
      buffer = [];
      try {
        if (!fh) {
          await mkdir(dirname(options.path), { recursive: true });
          fh = await open(options.path, 'a');
        }
        let text = '';
        for (const r of rows) text += `${JSON.stringify(r)}\n`;
        await fh.write(text);
        await fh.datasync();
        s.written += rows.length;
      } catch (err) {
        // Keep them, oldest first, for the next attempt.
        buffer = rows.concat(buffer);
        report(new AiError('unavailable', `usage-log: cannot append to ${options.path}: ${safeProviderText(err)}`, { cause: err }));
      }
    });
    return chain;
  };

  const timer = setInterval(() => void appendNow(), options.flushIntervalMs ?? 250);
  timer.unref();

  return {
    write(record: UsageRecord): void {
      try {
        const n = normalizeUsage(record);
        if (!n.ok) {
          s.failed++;
          report(new AiError('invalid_request', `usage-log: record refused at write(): ${n.reason}`, { retryable: false }));
          return;
        }
        if (n.clamped) s.clamped++;
        buffer.push(n.row);
        if (buffer.length >= batchSize || closed) void appendNow();
      } catch {
        s.failed++;
      }
    },
    flush: () => appendNow(),
    async close() {
      if (closed) return appendNow();
      closed = true;
      clearInterval(timer);
      await appendNow();
      await chain;
      if (buffer.length) await appendNow();
      await fh?.close();
      fh = undefined;
    },
    stats: () => ({ ...s, pending: buffer.length }),
  };
}
