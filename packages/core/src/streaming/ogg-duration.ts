// The length of an Ogg Opus stream read from its page headers as the bytes arrive: each page's
// granule position is the count of 48 kHz samples decoded by its end (RFC 7845 §4), so audio
// sent faster than real time is measured by what it holds, not by when it came.

const CAPTURE = [0x4f, 0x67, 0x67, 0x53]; // 'OggS'
const FIXED_HEADER_BYTES = 27;
/** Opus granule positions count 48 kHz samples whatever the input rate (RFC 7845 §4). */
const OPUS_GRANULE_HZ = 48_000;

/**
 * Walks the Ogg pages of a stream chunk by chunk (a page may span chunks). `audioMs` is the sum
 * over logical streams of the highest granule position seen, in ms (pre-skip not taken off, so
 * it errs long by a few ms). Bytes that are not an Ogg page where one should start stop the
 * walk: `audioMs` then stays where it was (the provider judges the audio itself).
 */
export class OggDuration {
  private readonly header: number[] = [];
  /** Payload bytes of the current page still to skip. */
  private skip = 0;
  private broken = false;
  private readonly granules = new Map<number, bigint>();

  /** Audio the pages read so far hold, ms. */
  get audioMs(): number {
    let samples = 0n;
    for (const g of this.granules.values()) samples += g;
    return Number((samples * 1000n) / BigInt(OPUS_GRANULE_HZ));
  }

  add(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length && !this.broken) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        this.skip -= n;
        at += n;
        continue;
      }
      this.header.push(chunk[at++]!);
      const h = this.header;
      if (h.length <= CAPTURE.length && h[h.length - 1] !== CAPTURE[h.length - 1]) {
        this.broken = true;
        return;
      }
      if (h.length < FIXED_HEADER_BYTES || h.length < FIXED_HEADER_BYTES + h[26]!) continue;
      this.page(h);
      h.length = 0;
    }
  }

  private page(h: number[]): void {
    const bytes = Uint8Array.from(h);
    const view = new DataView(bytes.buffer);
    const granule = view.getBigInt64(6, true);
    const serial = view.getUint32(14, true);
    let payload = 0;
    for (let i = 0; i < h[26]!; i++) payload += h[FIXED_HEADER_BYTES + i]!;
    this.skip = payload;
    // -1: no packet ends on this page.
    if (granule >= 0n && granule > (this.granules.get(serial) ?? 0n)) this.granules.set(serial, granule);
  }
}
