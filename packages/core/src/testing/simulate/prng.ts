// Seeded randomness for the simulator: every draw (latency, fault, workload mix, the engine's
// backoff jitter) comes from a stream derived from the one seed, so a run repeats exactly.

/** mulberry32: small, fast, seedable; uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A stream of its own for `name` (a provider key, 'engine', 'workload'), so that changing one
 * provider's profile does not reshuffle the draws of the others: `diff` compares like with like.
 */
export function streamFor(seed: number, name: string): () => number {
  let h = 2166136261 ^ (seed >>> 0);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return seededRandom(h >>> 0);
}

/** A standard normal draw (Box-Muller); always takes two uniforms, so streams stay aligned. */
export function normal(random: () => number): number {
  const u1 = random() || Number.MIN_VALUE;
  const u2 = random();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
