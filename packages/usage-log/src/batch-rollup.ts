import type { UsageRow } from './usage-row.js';

// The inclusive upper bounds (ms) of the latency histogram's 122 buckets, as
// ai_latency_uppers() of @korean-together/sql (migration 000003) defines them.
const UPPERS = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 15, 17, 19, 22, 25, 28, 31, 35, 39, 44, 49, 55, 61, 68, 75, 83, 92, 102, 113, 125, 138, 152, 168, 185, 204, 225,
  248, 273, 301, 332, 366, 403, 444, 489, 539, 594, 654, 720, 793, 873, 961, 1058, 1164, 1281, 1410, 1552, 1708, 1879, 2068, 2275, 2503, 2754, 3030,
  3334, 3668, 4035, 4439, 4884, 5373, 5911, 6503, 7154, 7870, 8658, 9524, 10477, 11525, 12678, 13946, 15341, 16876, 18564, 20421, 22464, 24711, 27183,
  29902, 32893, 36183, 39802, 43783, 48162, 52979, 58278, 64106, 70517, 77569, 85327, 93860, 103247, 113572, 124930, 137424, 151167, 166284, 182913,
  201205, 221326, 243459, 267806, 294587, 324046, 356451, 392097, 431307, 474438, 521882, 574071, 599999, 2147483647,
];
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** The first bucket whose upper bound holds `ms` (binary search). */
function bucketOf(ms: number): number {
  let lo = 0;
  let hi = UPPERS.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ms <= UPPERS[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** A sum that stays null while every value is null, as SQL's SUM does. */
const add = (a: number | null, b: number | null | undefined) => (b == null ? a : (a ?? 0) + b);
const micro = (v: string | null | undefined) => (v == null ? null : BigInt(v.replace('.', '')));

function decimal(m: bigint | null): string | null {
  if (m === null) return null;
  const s = m.toString().padStart(7, '0');
  return `${s.slice(0, -6)}.${s.slice(-6)}`;
}

interface Group {
  hour: number; type: string; name: string; model: string | null; success: boolean; error: string | null;
  attempts: number; distinct: number; calls: number; callsOk: number;
  tokensIn: number | null; tokensOut: number | null; audio: number | null; chars: number | null; cost: bigint | null;
  latSum: number; latMin: number; latMax: number; buckets: number[];
  hits: number; cached: number | null; saved: bigint | null;
}

/**
 * The hourly rollup rows of one batch, as ai_usage_log_insert (migration 000006) would compute
 * them from the rows if every row is stored and no earlier batch wrote a row of the batch's calls
 * on those UTC days: the function checks both and otherwise computes them itself. Each (UTC day,
 * call, type, name) counts one distinct call, each (UTC day, call, type) one call, and one
 * answered call when one of its attempts succeeded. JSON for the function's `jsonb` parameter:
 * sums exact (costs as decimal strings), histograms cumulative.
 */
export function batchRollup(rows: readonly UsageRow[]): string {
  const groups = new Map<string, Group>();
  const names = new Set<string>();
  const calls = new Map<string, Group | null>();
  const answered = new Set<string>();
  for (const r of rows) {
    const hour = Math.floor(r.createdAt / HOUR_MS) * HOUR_MS;
    const key = `${hour}|${r.providerType}|${r.providerName}|${r.modelId ?? '\u0000'}|${r.success}|${r.errorCode ?? '\u0000'}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        hour, type: r.providerType, name: r.providerName, model: r.modelId, success: r.success, error: r.errorCode,
        attempts: 0, distinct: 0, calls: 0, callsOk: 0, tokensIn: null, tokensOut: null, audio: null, chars: null, cost: null,
        latSum: 0, latMin: r.latencyMs, latMax: r.latencyMs, buckets: new Array<number>(UPPERS.length).fill(0), hits: 0, cached: null, saved: null,
      };
      groups.set(key, g);
    }
    g.attempts++;
    g.tokensIn = add(g.tokensIn, r.tokensIn);
    g.tokensOut = add(g.tokensOut, r.tokensOut);
    g.audio = add(g.audio, r.audioDurationMs);
    g.chars = add(g.chars, r.characters);
    const c = micro(r.estimatedCostUsd);
    if (c !== null) g.cost = (g.cost ?? 0n) + c;
    g.latSum += r.latencyMs;
    if (r.latencyMs < g.latMin) g.latMin = r.latencyMs;
    if (r.latencyMs > g.latMax) g.latMax = r.latencyMs;
    g.buckets[bucketOf(r.latencyMs)]!++;
    if (r.cacheHit === true) g.hits++;
    g.cached = add(g.cached, r.tokensCachedIn);
    const s = micro(r.savedCostUsd);
    if (s !== null) g.saved = (g.saved ?? 0n) + s;

    const call = `${Math.floor(r.createdAt / DAY_MS)}|${r.callId}|${r.providerType}`;
    const name = `${call}|${r.providerName}`;
    if (!names.has(name)) {
      names.add(name);
      g.distinct++;
    }
    if (!calls.has(call)) {
      calls.set(call, g);
      g.calls++;
    }
    if (r.success && !answered.has(call)) {
      answered.add(call);
      g.callsOk++;
    }
  }
  const out = [...groups.values()].map((g) => {
    let run = 0;
    return {
      hour: new Date(g.hour).toISOString(), provider_type: g.type, provider_name: g.name, model_id: g.model, success: g.success, error_code: g.error,
      attempts: g.attempts, distinct_calls: g.distinct, calls: g.calls, calls_succeeded: g.callsOk,
      tokens_in: g.tokensIn, tokens_out: g.tokensOut, audio_duration_ms: g.audio, characters: g.chars, cost_usd: decimal(g.cost),
      latency_ms_sum: g.latSum, latency_ms_min: g.latMin, latency_ms_max: g.latMax,
      latency_histogram: g.buckets.map((n) => (run += n)),
      cache_hits: g.hits, tokens_cached_in: g.cached, saved_cost_usd: decimal(g.saved),
    };
  });
  return JSON.stringify(out);
}
