import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AiError, type UsageRecord, type UsageSink } from '@korean-together/core';
import { safeProviderText } from '@korean-together/core/provider-kit';
import { writeAll } from './durable-file.js';
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
  /** Records in memory, not yet on disk, plus records written whose fdatasync has not succeeded yet. */
  pending: number;
  /** Records refused at write() (not a valid usage record). */
  failed: number;
  /** Records stored with a clamped value. */
  clamped: number;
  /** Records lost: still in memory when close() finished because the file could not be appended to (each reported through onError). */
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

  // Bytes known to be in the file: a failed (possibly short) write is truncated back to this.
  let bytes = 0;
  // Records already written whose fdatasync failed: only the sync is retried, never the write,
  // or they would be in the file twice.
  let unsynced = 0;
  // A failed write whose truncation failed too left part of a line: start the next on a new line.
  let torn = false;

  const appendNow = (): Promise<void> => {
    chain = chain.then(async () => {
      try {
        if (!fh) {
          await mkdir(dirname(options.path), { recursive: true });
          fh = await open(options.path, 'a');
          bytes = (await fh.stat()).size;
        }
        if (unsynced > 0) {
          await fh.datasync();
          s.written += unsynced;
          unsynced = 0;
        }
      } catch (err) {
        report(new AiError('unavailable', `usage-log: cannot append to ${options.path}: ${safeProviderText(err)}`, { cause: err }));
        return;
      }
      if (buffer.length === 0) return;
      const rows = buffer;
      buffer = [];
      let text = torn ? '\n' : '';
      for (const r of rows) text += `${JSON.stringify(r)}\n`;
      const buf = Buffer.from(text);
      try {
        await writeAll(fh, buf);
      } catch (err) {
        // Keep them, oldest first, for the next attempt; and take back whatever part did get written.
        buffer = rows.concat(buffer);
        try {
          await fh.truncate(bytes);
        } catch {
          torn = true;
          bytes = await fh.stat().then((st) => st.size, () => bytes);
        }
        report(new AiError('unavailable', `usage-log: cannot append to ${options.path}: ${safeProviderText(err)}`, { cause: err }));
        return;
      }
      bytes += buf.length;
      torn = false;
      try {
        await fh.datasync();
        s.written += rows.length;
      } catch (err) {
        unsynced += rows.length;
        report(new AiError('unavailable', `usage-log: cannot fdatasync ${options.path}: ${safeProviderText(err)}`, { cause: err }));
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
      if (buffer.length) {
        // The file refused them twice; nothing keeps running after close() to try again.
        const n = buffer.length;
        buffer = [];
        s.dropped += n;
        report(new AiError('unavailable', `usage-log: close() could not append ${n} record(s) to ${options.path}; they are lost (stats().dropped)`, { retryable: false }));
      }
      await fh?.close().catch(() => {});
      fh = undefined;
    },
    stats: () => ({ ...s, pending: buffer.length + unsynced }),
  };
}
