// What one cache entry holds, as bytes: a length-prefixed JSON header and an optional payload
// (TTS audio), so a store keeps one opaque value per key and audio is never base64-inflated.
import type { UsageUnits } from '../pricing/cost.js';

/** One stored answer, with what a hit needs to report it. */
export interface CacheEntry {
  /** The chain key, provider name and model that made the answer. */
  providerKey: string;
  provider: string;
  modelId: string;
  /** What the answer billed, in the price table's units: a hit prices them at today's rates as its saving. */
  units: UsageUnits;
  /** The capability's own part, as JSON (TTS: encoding and lengths; eval: the checked grade). */
  value: unknown;
  /** Bytes beside the JSON (TTS: the audio). */
  payload?: Uint8Array;
}

const FORMAT = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeEntry(e: CacheEntry): Uint8Array {
  const header = encoder.encode(JSON.stringify([FORMAT, e.providerKey, e.provider, e.modelId, e.units, e.value]));
  const payload = e.payload ?? new Uint8Array(0);
  const out = new Uint8Array(4 + header.byteLength + payload.byteLength);
  new DataView(out.buffer).setUint32(0, header.byteLength);
  out.set(header, 4);
  out.set(payload, 4 + header.byteLength);
  return out;
}

/** The entry in `bytes`, or undefined when they are not one this version wrote (read as a miss). */
export function decodeEntry(bytes: Uint8Array): CacheEntry | undefined {
  try {
    if (bytes.byteLength < 4) return undefined;
    const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
    if (4 + n > bytes.byteLength) return undefined;
    const h = JSON.parse(decoder.decode(bytes.subarray(4, 4 + n))) as unknown[];
    if (!Array.isArray(h) || h[0] !== FORMAT || typeof h[1] !== 'string' || typeof h[2] !== 'string' || typeof h[3] !== 'string' || typeof h[4] !== 'object' || h[4] === null) return undefined;
    // A view: the capability copies it into each caller's result (capability-cache.ts).
    const payload = bytes.subarray(4 + n);
    return { providerKey: h[1], provider: h[2], modelId: h[3], units: h[4] as UsageUnits, value: h[5], payload };
  } catch {
    return undefined;
  }
}
