import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { SINK_DEFAULTS, SINK_LIMITS, sinkSettings } from './sink-options.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const source = (file: string) => readFileSync(new URL(file, import.meta.url), 'utf8');

/** The rows of the first Markdown table after `heading`: option name -> cells. */
function optionTable(heading: string): Map<string, { unit: string; default: string; meaning: string }> {
  const lines = readme.slice(readme.indexOf(heading)).split('\n');
  const start = lines.findIndex((l) => l.startsWith('| option'));
  const rows = new Map<string, { unit: string; default: string; meaning: string }>();
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const [name, unit, def, meaning] = line.split(' | ').map((c) => c.replace(/^\| ?| ?\|$/g, '').trim());
    rows.set(name!.replace(/`/g, ''), { unit: unit!, default: def!, meaning: meaning! });
  }
  return rows;
}

/** How the README writes a default: numbers with or without thousands separators, names in backticks. */
const plain = (cell: string) => cell.replace(/[`,]/g, '');

/** What the README should say for each default in SINK_DEFAULTS. */
function readmeText(key: keyof typeof SINK_DEFAULTS): string {
  if (key === 'clock') return 'systemClock';
  if (key === 'spillDir') return SINK_DEFAULTS.spillDir.replace(tmpdir(), '<os tmpdir>');
  return String(SINK_DEFAULTS[key]);
}

/** Options without a default of their own. */
const REQUIRED_OR_NONE = ['pool', 'connectionString', 'db', 'onError'];

describe('SINK_DEFAULTS', () => {
  const table = optionTable('### `createPostgresSink(options)` and `createPgliteSink(options)`');

  it('the README option table states every default exactly as SINK_DEFAULTS holds it, and nothing else', () => {
    const keys = Object.keys(SINK_DEFAULTS) as (keyof typeof SINK_DEFAULTS)[];
    expect([...table.keys()].sort()).toEqual([...keys, ...REQUIRED_OR_NONE, 'flushTimeoutMs'].sort());
    expect(Object.fromEntries(keys.map((k) => [k, plain(table.get(k)!.default)]))).toEqual(Object.fromEntries(keys.map((k) => [k, readmeText(k)])));
    for (const k of REQUIRED_OR_NONE) expect(table.get(k)!.default).toBe('-');
    expect(table.get('flushTimeoutMs')!.default).toBe('`closeTimeoutMs`');
    expect(table.get('staleAfterMs')!.meaning).toContain(`At least ${SINK_LIMITS.minStaleAfterMs.toLocaleString('en-US')}`);
    expect(readme).toContain(`after ${SINK_LIMITS.segmentReplayAttempts} failures`);
  });

  it('the code reads its defaults from it', () => {
    const s = sinkSettings({});
    expect(s).toMatchObject({
      batchSize: SINK_DEFAULTS.batchSize,
      flushIntervalMs: SINK_DEFAULTS.flushIntervalMs,
      maxQueue: SINK_DEFAULTS.maxQueue,
      concurrency: SINK_DEFAULTS.concurrency,
      spillDir: SINK_DEFAULTS.spillDir,
      segmentMaxRows: SINK_DEFAULTS.segmentMaxRows,
      closeTimeoutMs: SINK_DEFAULTS.closeTimeoutMs,
      flushTimeoutMs: SINK_DEFAULTS.closeTimeoutMs,
      backoff: { initialDelayMs: SINK_DEFAULTS.retryInitialDelayMs, maxDelayMs: SINK_DEFAULTS.retryMaxDelayMs },
      staleAfterMs: SINK_DEFAULTS.staleAfterMs,
      heartbeatMs: SINK_DEFAULTS.staleAfterMs / SINK_LIMITS.heartbeatsPerStaleWindow,
      adoptIntervalMs: SINK_DEFAULTS.adoptIntervalMs,
      clock: SINK_DEFAULTS.clock,
    });
    expect(sinkSettings({ closeTimeoutMs: 1234 }).flushTimeoutMs).toBe(1234);
    expect(() => sinkSettings({ maxQueue: 1.5 })).toThrow(expect.objectContaining({ code: 'invalid_config', message: expect.stringMatching(/maxQueue/) }));
    // Frozen: nobody changes every sink's defaults by accident.
    expect(Object.isFrozen(SINK_DEFAULTS)).toBe(true);
  });

  it('the option docs point at it instead of repeating a value', () => {
    const docs = ['./sink-options.ts', './postgres-sink.ts', './pglite-sink.ts'].map(source).join('\n');
    const linked = new Set([...docs.matchAll(/\{@link SINK_DEFAULTS\.(\w+)\}/g)].map((m) => m[1]));
    expect([...linked].sort()).toEqual(Object.keys(SINK_DEFAULTS).sort());
    // No option doc states a default as a literal ("Default 250", "Default `public`").
    expect(docs.match(/Default:? [`\d]/g)).toBeNull();
  });
});
