// The latency histogram of the rollups, in TypeScript: the same 122 buckets as the database's
// ai_latency_uppers() and the same estimate as ai_latency_quantile, for code that adds histograms
// of several rollup rows itself (a test keeps the two equal).

/**
 * Inclusive upper bounds (ms) of the latency buckets: one per millisecond below 10 ms, then each
 * bucket at most 10% wider than its lower bound up to 599,999 ms, then one open bucket.
 * A rollup's `latency_histogram[k]` counts the attempts with latency_ms <= LATENCY_BUCKET_UPPERS_MS[k].
 */
export const LATENCY_BUCKET_UPPERS_MS: readonly number[] = Object.freeze([
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 15, 17, 19, 22, 25, 28, 31, 35, 39, 44, 49, 55, 61, 68, 75, 83, 92, 102, 113, 125, 138, 152, 168, 185, 204, 225, 248,
  273, 301, 332, 366, 403, 444, 489, 539, 594, 654, 720, 793, 873, 961, 1058, 1164, 1281, 1410, 1552, 1708, 1879, 2068, 2275, 2503, 2754, 3030, 3334, 3668,
  4035, 4439, 4884, 5373, 5911, 6503, 7154, 7870, 8658, 9524, 10477, 11525, 12678, 13946, 15341, 16876, 18564, 20421, 22464, 24711, 27183, 29902, 32893,
  36183, 39802, 43783, 48162, 52979, 58278, 64106, 70517, 77569, 85327, 93860, 103247, 113572, 124930, 137424, 151167, 166284, 182913, 201205, 221326,
  243459, 267806, 294587, 324046, 356451, 392097, 431307, 474438, 521882, 574071, 599999, 2147483647,
]);

/** Index of the first element of a non-decreasing array greater than `r` (binary search), or the length. */
function firstAbove(cumulative: readonly number[], r: number): number {
  let lo = 0;
  let hi = cumulative.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! > r) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function rankValue(cumulative: readonly number[], r: number, minMs: number | null, maxMs: number | null): number {
  const k = Math.min(firstAbove(cumulative, r), cumulative.length - 1);
  const below = k === 0 ? 0 : cumulative[k - 1]!;
  const upper = LATENCY_BUCKET_UPPERS_MS[k]!;
  const lo = Math.max(k === 0 ? 0 : LATENCY_BUCKET_UPPERS_MS[k - 1]! + 1, minMs ?? 0);
  const hi = Math.max(Math.min(upper, maxMs ?? upper), lo);
  return lo + ((hi - lo) * (r - below + 0.5)) / Math.max(cumulative[k]! - below, 1);
}

/**
 * The q-quantile (0..1) of the latencies a cumulative histogram describes (the rollups'
 * `latency_histogram`, or the element-wise sum of several), interpolated between ranks like
 * percentile_cont; null when it counts nothing. Within 10% of percentile_cont over the raw rows
 * (exact below 10 ms); above 600,000 ms between 600,000 ms and `maxMs`. The same arithmetic as the
 * database's ai_latency_quantile.
 */
export function latencyQuantile(cumulative: readonly (number | string | bigint)[], q: number, minMs: number | null = null, maxMs: number | null = null): number | null {
  const le = cumulative.map(Number);
  const n = le[le.length - 1] ?? 0;
  if (!(n > 0) || !Number.isFinite(q)) return null;
  const pos = Math.min(Math.max(q, 0), 1) * (n - 1);
  const loRank = Math.floor(pos);
  const v = rankValue(le, loRank, minMs, maxMs);
  return pos > loRank ? v + (pos - loRank) * (rankValue(le, loRank + 1, minMs, maxMs) - v) : v;
}
