/** A constant-bitrate MPEG-1 Layer III stream (32 kbit/s, 32 kHz, mono) of at least `ms`: 36 ms per 144-byte frame. */
export function mp3OfMs(ms: number): Uint8Array {
  const frames = Math.ceil(ms / 36);
  const out = new Uint8Array(frames * 144);
  for (let i = 0; i < frames; i++) out.set([0xff, 0xfb, 0x18, 0xc4], i * 144);
  return out;
}
