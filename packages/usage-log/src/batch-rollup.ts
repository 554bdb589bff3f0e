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

/**
 * An exact sum of the rows' decimal costs (`W.FFFFFF`, at most 999999.999999 each, as
 * normalizeUsage writes them): whole dollars and micro-dollars are summed apart as plain numbers,
 * each far below 2^53 for any batch, and joined once per group, so no BigInt per row.
 */
class DecimalSum {
  whole = 0;
  micro = 0;
  any = false;
  add(v: string | null | undefined): void {
    if (v == null) return;
    const dot = v.indexOf('.');
    this.any = true;
    if (dot < 0) {
      this.whole += Number(v);
      return;
    }
    this.whole += Number(v.slice(0, dot));
    const frac = v.slice(dot + 1);
    this.micro += frac.length === 6 ? Number(frac) : Number(frac.padEnd(6, '0'));
  }
  text(): string | null {
    if (!this.any) return null;
    const carry = Math.floor(this.micro / 1_000_000);
    return `${this.whole + carry}.${String(this.micro - carry * 1_000_000).padStart(6, '0')}`;
  }
}

interface Group {
  hour: number; type: string; name: string; model: string | null; success: boolean; error: string | null;
  attempts: number; distinct: number; calls: number; callsOk: number;
  tokensIn: number | null; tokensOut: number | null; audio: number | null; chars: number | null; cost: DecimalSum;
  latSum: number; latMin: number; latMax: number; buckets: number[];
  hits: number; cached: number | null; saved: DecimalSum;
}

/** What one call did on one UTC day as one provider type, so far in the batch. */
interface CallDay {
  day: number;
  type: string;
  names: string[];
  answered: boolean;
}

/** Batches hold a handful of groups: a scan compares fields; past this many, a keyed map. */
const SCAN_GROUPS = 32;

const sameGroup = (g: Group, hour: number, r: UsageRow) =>
  g.hour === hour && g.type === r.providerType && g.name === r.providerName && g.model === r.modelId && g.success === r.success && g.error === r.errorCode;
// NUL between the fields: normalizeUsage removes it from every text, so no two groups share a
// key (a '|' could sit inside a provider name); a null model or code is tagged apart from text.
const groupKey = (hour: number, type: string, name: string, model: string | null, success: boolean, error: string | null) =>
  `${hour}\u0000${type}\u0000${name}\u0000${model === null ? 'N' : `S${model}`}\u0000${success}\u0000${error === null ? 'N' : `S${error}`}`;
const rowKey = (hour: number, r: UsageRow) => groupKey(hour, r.providerType, r.providerName, r.modelId, r.success, r.errorCode);

/**
 * The hourly rollup rows of one batch, as ai_usage_log_insert (migration 000006) would compute
 * them from the rows if every row is stored and no earlier batch wrote a row of the batch's calls
 * on those UTC days: the function checks both and otherwise computes them itself. Each (UTC day,
 * call, type, name) counts one distinct call, each (UTC day, call, type) one call, and one
 * answered call when one of its attempts succeeded. JSON for the function's `jsonb` parameter:
 * sums exact (costs as decimal strings), histograms cumulative.
 */
export function batchRollup(rows: readonly UsageRow[]): string {
  // (Field comparisons and maps keyed by the rows' own strings: building a key string per row
  // was most of this function's time.)
  const list: Group[] = [];
  let keyed: Map<string, Group> | null = null;
  let last: Group | null = null;
  const calls = new Map<string, CallDay[]>();
  for (const r of rows) {
    const hour = Math.floor(r.createdAt / HOUR_MS) * HOUR_MS;
    let g: Group | null | undefined = last !== null && sameGroup(last, hour, r) ? last : null;
    if (!g) {
      if (keyed) g = keyed.get(rowKey(hour, r));
      else for (let k = 0; k < list.length && !g; k++) if (sameGroup(list[k]!, hour, r)) g = list[k];
      if (!g) {
        g = {
          hour, type: r.providerType, name: r.providerName, model: r.modelId, success: r.success, error: r.errorCode,
          attempts: 0, distinct: 0, calls: 0, callsOk: 0, tokensIn: null, tokensOut: null, audio: null, chars: null, cost: new DecimalSum(),
          latSum: 0, latMin: r.latencyMs, latMax: r.latencyMs, buckets: new Array<number>(UPPERS.length).fill(0), hits: 0, cached: null, saved: new DecimalSum(),
        };
        list.push(g);
        if (keyed) keyed.set(rowKey(hour, r), g);
        else if (list.length > SCAN_GROUPS) keyed = new Map(list.map((x) => [groupKey(x.hour, x.type, x.name, x.model, x.success, x.error), x]));
      }
      last = g;
    }
    g.attempts++;
    g.tokensIn = add(g.tokensIn, r.tokensIn);
    g.tokensOut = add(g.tokensOut, r.tokensOut);
    g.audio = add(g.audio, r.audioDurationMs);
    g.chars = add(g.chars, r.characters);
    g.cost.add(r.estimatedCostUsd);
    g.latSum += r.latencyMs;
    if (r.latencyMs < g.latMin) g.latMin = r.latencyMs;
    if (r.latencyMs > g.latMax) g.latMax = r.latencyMs;
    g.buckets[bucketOf(r.latencyMs)]!++;
    if (r.cacheHit === true) g.hits++;
    g.cached = add(g.cached, r.tokensCachedIn);
    g.saved.add(r.savedCostUsd);

    // Each (UTC day, call, type) counts one call, and one answered call at its first success;
    // each (UTC day, call, type, name) one distinct call.
    const day = Math.floor(r.createdAt / DAY_MS);
    let days = calls.get(r.callId);
    if (days === undefined) calls.set(r.callId, (days = []));
    let cd = days.find((c) => c.day === day && c.type === r.providerType);
    if (cd === undefined) {
      days.push((cd = { day, type: r.providerType, names: [], answered: false }));
      g.calls++;
    }
    if (!cd.names.includes(r.providerName)) {
      cd.names.push(r.providerName);
      g.distinct++;
    }
    if (r.success && !cd.answered) {
      cd.answered = true;
      g.callsOk++;
    }
  }
  const out = list.map((g) => {
    let run = 0;
    return {
      hour: new Date(g.hour).toISOString(), provider_type: g.type, provider_name: g.name, model_id: g.model, success: g.success, error_code: g.error,
      attempts: g.attempts, distinct_calls: g.distinct, calls: g.calls, calls_succeeded: g.callsOk,
      tokens_in: g.tokensIn, tokens_out: g.tokensOut, audio_duration_ms: g.audio, characters: g.chars, cost_usd: g.cost.text(),
      latency_ms_sum: g.latSum, latency_ms_min: g.latMin, latency_ms_max: g.latMax,
      latency_histogram: g.buckets.map((n) => (run += n)),
      cache_hits: g.hits, tokens_cached_in: g.cached, saved_cost_usd: g.saved.text(),
    };
  });
  return JSON.stringify(out);
}
