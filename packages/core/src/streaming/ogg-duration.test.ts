import { describe, expect, it } from 'vitest';
import { OggDuration } from './ogg-duration.js';

/** One Ogg page (RFC 3533; the CRC is not checked by the reader, so left 0) with one packet of `payloadBytes`. */
function oggPage(granule: bigint, payloadBytes: number, serial = 1): Uint8Array {
  const segments: number[] = [];
  for (let left = payloadBytes; ; left -= 255) {
    segments.push(Math.min(left, 255));
    if (left < 255) break;
  }
  const page = new Uint8Array(27 + segments.length + payloadBytes);
  const view = new DataView(page.buffer);
  page.set([0x4f, 0x67, 0x67, 0x53], 0);
  view.setBigInt64(6, granule, true);
  view.setUint32(14, serial, true);
  page[26] = segments.length;
  page.set(segments, 27);
  return page;
}

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
};

describe('OggDuration', () => {
  it('reads the granule positions (48 kHz samples) of pages split anywhere across chunks', () => {
    // OpusHead and OpusTags pages (granule 0), then 1 s, 2 s, 2.5 s of audio; a 300-byte packet spans two segments.
    const stream = concat([oggPage(0n, 19), oggPage(0n, 40), oggPage(48_000n, 300), oggPage(-1n, 100), oggPage(96_000n, 80), oggPage(120_000n, 10)]);
    for (const size of [1, 7, 64, stream.length]) {
      const d = new OggDuration();
      const seen: number[] = [];
      for (let at = 0; at < stream.length; at += size) {
        d.add(stream.subarray(at, at + size));
        seen.push(d.audioMs);
      }
      expect(d.audioMs).toBe(2_500);
      // Never goes back (a page with granule -1 ends no packet).
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
    }
  });

  it('adds up logical streams one after another (chained), each from its own granule 0', () => {
    const d = new OggDuration();
    d.add(concat([oggPage(0n, 19, 1), oggPage(48_000n, 50, 1), oggPage(0n, 19, 2), oggPage(24_000n, 50, 2)]));
    expect(d.audioMs).toBe(1_500);
  });

  it('stops at bytes that are not an Ogg page, keeping what it had read', () => {
    const d = new OggDuration();
    d.add(oggPage(48_000n, 10));
    d.add(new Uint8Array([1, 2, 3, 4, 5]));
    d.add(oggPage(480_000n, 10));
    expect(d.audioMs).toBe(1_000);
  });
});
