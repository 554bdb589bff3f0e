import { describe, expect, it } from 'vitest';
import { reconcile } from '@korean-together/sql';
import type { UsageRecord } from '@korean-together/core';
import { TcpProxy } from '../../../test-support/tcp-proxy.js';
import { useMigratedDatabase } from '../../../test-support/migrated-database.js';
import { makeRecord, recordId, streamId } from '../../../test-support/usage.js';
import { createPostgresSink } from '../src/postgres-sink.js';
import { quarantined, sinkFor, spillSegments, tempDir, until } from './sink-helpers.js';

// The rollups the sink keeps (through ai_usage_log_insert) equal what the raw rows give, whatever
// happened on the way: doubled writes, replays of rows already stored, rows the database refuses,
// an outage that sends rows to the spill file and replays them, the attempts of one call in
// different batches. reconcile() recomputes the rollups from the raw rows and lists differences.

/** Calls of 1-3 attempts; every third call falls back to another provider; attempts of a call are consecutive records. */
function records(stream: string, calls: number): UsageRecord[] {
  const out: UsageRecord[] = [];
  let seq = 0;
  for (let c = 0; c < calls; c++) {
    const callId = `${stream}-2222-4000-8000-${c.toString(16).padStart(12, '0')}`;
    const attempts = 1 + (c % 3);
    for (let a = 1; a <= attempts; a++) {
      const last = a === attempts;
      out.push(
        makeRecord(stream, seq++, {
          callId,
          attempt: a,
          providerType: 'eval',
          providerName: c % 3 === 2 && last ? 'openai' : 'gemini',
          success: last,
          ...(last ? {} : { errorCode: 'timeout', errorMessage: 'attempt timed out' }),
          // Some answered by the SDK's cache (cost 0, what it saved), some with prompt-cached tokens.
          ...(attempts === 1 && c % 5 === 0 && { cacheHit: true, estimatedCostUsd: 0, savedCostUsd: (c + 1) / 1_000_000, latencyMs: 1 }),
          ...(c % 4 === 1 && { tokensCachedIn: 32 + (c % 7) }),
        }),
      );
    }
  }
  return out;
}

describe('rollups through the usage sink', () => {
  const db = useMigratedDatabase('sink_rollups');
  const window = { from: '2026-03-01', to: '2026-03-02' };

  it('equal the raw rows after doubled writes, replays and a refused row', async () => {
    // A host rule that refuses one provider's rows: the sink isolates and quarantines them.
    await db.query(`CREATE FUNCTION "${db.schema}".refuse_restricted() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.provider_name = 'restricted' THEN RAISE EXCEPTION 'restricted provider'; END IF; RETURN NEW; END $$`);
    await db.query(`CREATE TRIGGER refuse_restricted BEFORE INSERT ON "${db.schema}".ai_usage_log FOR EACH ROW EXECUTE FUNCTION "${db.schema}".refuse_restricted()`);
    const s = streamId();
    const recs = records(s, 300);
    const refused = makeRecord(s, 100_000, { providerName: 'restricted' });
    const spillDir = await tempDir('rollups');
    // Small batches: most multi-attempt calls are split over two batches.
    const sink = sinkFor(db, { spillDir, batchSize: 7, retryInitialDelayMs: 20 });
    recs.forEach((r, i) => {
      sink.write(r);
      if (i === 50) sink.write(refused);
      if (i % 5 === 0) sink.write(r); // doubled
    });
    await sink.flush();
    // A second writer replays the first 200 records (already stored) and adds nothing.
    const again = sinkFor(db, { spillDir: await tempDir('rollups-again'), batchSize: 50 });
    for (const r of recs.slice(0, 200)) again.write(r);
    await again.close();
    await sink.close();
    expect(again.stats()).toMatchObject({ written: 200, duplicates: 200 });
    expect(sink.stats()).toMatchObject({ failed: 1, dropped: 0 });
    expect((await quarantined(spillDir)).map((q) => (q.row as { id: string }).id)).toEqual([recordId(s, 100_000)]);

    const report = await reconcile({ client: db.client, schema: db.schema, ...window });
    expect(report.differences).toEqual([]);
    expect(report.checked.usageRows).toBe(recs.length);
    const calls = await db.query<{ provider_name: string; distinct_calls: number; calls: number; calls_succeeded: number }>(
      `SELECT provider_name, distinct_calls::int, calls::int, calls_succeeded::int FROM "${db.schema}".ai_usage_daily WHERE day = '2026-03-01' ORDER BY 1`,
    );
    // 300 calls on gemini (every one starts there), 100 of them answered by openai.
    expect(calls.map((c) => [c.provider_name, c.distinct_calls, c.calls_succeeded])).toEqual([['gemini', 300, 200], ['openai', 100, 100]]);
    expect(calls.reduce((n, c) => n + c.calls, 0)).toBe(300);
    await db.query(`DROP TRIGGER refuse_restricted ON "${db.schema}".ai_usage_log`);
  });
});

describe('cache columns through the usage sink', () => {
  const db = useMigratedDatabase('sink_cache');

  it('a hit, a prompt-cached call and a miss go from the records through the table and the rollups to the view', async () => {
    const s = streamId();
    const at = new Date('2026-03-05T10:00:00Z');
    const hit = makeRecord(s, 0, { providerType: 'tts', providerName: 'google', modelId: 'ko-KR-Wavenet-A', characters: 18, latencyMs: 1, success: true, estimatedCostUsd: 0, cacheHit: true, savedCostUsd: 0.000288, createdAt: at });
    const cached = makeRecord(s, 1, { providerType: 'eval', tokensIn: 1200, tokensCachedIn: 1024, success: true, estimatedCostUsd: 0.000151, createdAt: at });
    const miss = makeRecord(s, 2, { providerType: 'tts', providerName: 'google', modelId: 'ko-KR-Wavenet-A', characters: 18, success: true, estimatedCostUsd: 0.000288, createdAt: at });
    const sink = sinkFor(db, { spillDir: await tempDir('cache-cols') });
    for (const r of [hit, cached, miss, hit]) sink.write(r); // the hit twice: stored and counted once
    await sink.close();
    expect(sink.stats()).toMatchObject({ written: 4, duplicates: 1, failed: 0, dropped: 0 });

    const raw = await db.query(`SELECT id::text, cache_hit, saved_cost_usd::text AS saved, tokens_cached_in AS cached, estimated_cost_usd::text AS cost FROM "${db.schema}".ai_usage_log ORDER BY id`);
    expect(raw).toEqual([
      { id: recordId(s, 0), cache_hit: true, saved: '0.000288', cached: null, cost: '0.000000' },
      { id: recordId(s, 1), cache_hit: false, saved: null, cached: 1024, cost: '0.000151' },
      { id: recordId(s, 2), cache_hit: false, saved: null, cached: null, cost: '0.000288' },
    ]);
    const hourly = await db.query(`SELECT provider_type, sum(cache_hits)::int AS hits, sum(saved_cost_usd)::text AS saved, sum(tokens_cached_in)::int AS cached FROM "${db.schema}".ai_usage_hourly GROUP BY 1 ORDER BY 1`);
    expect(hourly).toEqual([
      { provider_type: 'eval', hits: 0, saved: null, cached: 1024 },
      { provider_type: 'tts', hits: 1, saved: '0.000288', cached: null },
    ]);
    const view = await db.query(
      `SELECT provider_type, total_calls::int AS calls, cache_hits::int AS hits, cache_misses::int AS misses, total_saved_cost_usd::text AS saved,
              total_tokens_cached_in::int AS cached, total_cost_usd::text AS cost
         FROM "${db.schema}".v_daily_ai_costs WHERE date = '2026-03-05' ORDER BY 1`,
    );
    expect(view).toEqual([
      { provider_type: 'eval', calls: 1, hits: 0, misses: 1, saved: null, cached: 1024, cost: '0.000151' },
      { provider_type: 'tts', calls: 2, hits: 1, misses: 1, saved: '0.000288', cached: null, cost: '0.000288' },
    ]);
    expect((await reconcile({ client: db.client, schema: db.schema, from: '2026-03-05', to: '2026-03-06' })).differences).toEqual([]);
  });
});

describe.runIf(process.env.DATABASE_URL)('rollups through the usage sink across an outage', () => {
  const db = useMigratedDatabase('sink_rollups_outage');

  it('rows spilled while the database is down are replayed once and counted once', async () => {
    const proxy = TcpProxy.forUrl(db.connectionString!);
    await proxy.start();
    const spillDir = await tempDir('rollups-outage');
    const s = streamId();
    const recs = records(s, 600);
    try {
      const sink = createPostgresSink({ connectionString: proxy.urlFor(db.connectionString!), schema: db.schema, spillDir, batchSize: 11, retryInitialDelayMs: 20, concurrency: 2 });
      const half = Math.floor(recs.length / 2);
      for (const r of recs.slice(0, half)) sink.write(r);
      await sink.flush();
      // Down: the next rows (and the rest of their calls' attempts) go to the spill file.
      await proxy.cut('refuse');
      for (const r of recs.slice(half)) sink.write(r);
      await until(() => sink.stats().spilled > 0, 'rows spilled');
      await proxy.restore();
      await until(async () => (await spillSegments(spillDir)).length === 0 && sink.stats().pending === 0, 'spill replayed');
      await sink.close();
      expect(sink.stats()).toMatchObject({ dropped: 0, failed: 0 });
      expect(sink.stats().replayed).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
    const report = await reconcile({ client: db.client, schema: db.schema, from: '2026-03-01', to: '2026-03-02' });
    expect(report.differences).toEqual([]);
    expect(report.checked.usageRows).toBe(recs.length);
    const [sum] = await db.query<{ calls: number; distinct: number }>(`SELECT sum(calls)::int AS calls, sum(distinct_calls)::int AS distinct FROM "${db.schema}".ai_usage_daily`);
    expect(sum).toEqual({ calls: 600, distinct: 800 });
  });
});
