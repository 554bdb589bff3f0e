// A minimal, valid Ogg Opus stream (RFC 7845) for StreamingSynthesize's OGG_OPUS answers: an
// OpusHead page, an OpusTags page, then pages of 20 ms silent CELT packets whose granule
// positions give the duration.
// Written page by page, so a stream can send each chunk as soon as it is made.

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

/** Opus always runs at 48 kHz in the granule positions. */
export const OPUS_GRANULE_RATE = 48_000;
export const OPUS_PACKET_MS = 20;
/** TOC 0xF8 (CELT fullband, 20 ms, mono, one frame) and the common two-byte silent frame. */
const SILENT_PACKET = Uint8Array.of(0xf8, 0xff, 0xfe);
const PRE_SKIP = 312;

function oggPage(serial: number, sequence: number, granule: bigint, headerType: number, packets: Uint8Array[]): Uint8Array {
  const lacing: number[] = [];
  for (const p of packets) {
    let n = p.length;
    while (n >= 255) {
      lacing.push(255);
      n -= 255;
    }
    lacing.push(n);
  }
  const bodyLength = packets.reduce((s, p) => s + p.length, 0);
  const page = new Uint8Array(27 + lacing.length + bodyLength);
  const view = new DataView(page.buffer);
  page.set([0x4f, 0x67, 0x67, 0x53, 0, headerType]);
  view.setBigUint64(6, granule, true);
  view.setUint32(14, serial, true);
  view.setUint32(18, sequence, true);
  page[26] = lacing.length;
  page.set(lacing, 27);
  let at = 27 + lacing.length;
  for (const p of packets) {
    page.set(p, at);
    at += p.length;
  }
  let crc = 0;
  for (const byte of page) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  view.setUint32(22, crc, true);
  return page;
}

/** Writes one Ogg Opus stream: `header()` first, then `audio(ms)` per chunk, the last with `last: true`. */
export class OggOpusWriter {
  private sequence = 0;
  private granule = BigInt(PRE_SKIP);

  constructor(private readonly serial = 0x6b746f67) {}

  /** The OpusHead and OpusTags pages. */
  header(): Uint8Array {
    const head = new Uint8Array(19);
    head.set(new TextEncoder().encode('OpusHead'));
    const hv = new DataView(head.buffer);
    head[8] = 1; // version
    head[9] = 1; // mono
    hv.setUint16(10, PRE_SKIP, true);
    hv.setUint32(12, 24_000, true); // input sample rate, informational
    const vendor = new TextEncoder().encode('korean-together emulator');
    const tags = new Uint8Array(8 + 4 + vendor.length + 4);
    const tv = new DataView(tags.buffer);
    tags.set(new TextEncoder().encode('OpusTags'));
    tv.setUint32(8, vendor.length, true);
    tags.set(vendor, 12);
    tv.setUint32(12 + vendor.length, 0, true); // no user comments
    const first = oggPage(this.serial, this.sequence++, 0n, 0x02, [head]);
    const second = oggPage(this.serial, this.sequence++, 0n, 0, [tags]);
    const out = new Uint8Array(first.length + second.length);
    out.set(first);
    out.set(second, first.length);
    return out;
  }

  /** One page of `ms` of audio (rounded up to whole 20 ms packets); `last` marks the end of the stream. */
  audio(ms: number, last: boolean): Uint8Array {
    const packets = Math.max(1, Math.ceil(ms / OPUS_PACKET_MS));
    this.granule += BigInt(packets * (OPUS_GRANULE_RATE / 1000) * OPUS_PACKET_MS);
    return oggPage(this.serial, this.sequence++, this.granule, last ? 0x04 : 0, Array.from({ length: packets }, () => SILENT_PACKET));
  }
}
