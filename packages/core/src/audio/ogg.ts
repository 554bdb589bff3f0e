// Ogg Opus container check: a chain of Ogg pages (capture pattern "OggS", version 0, segment
// table), the first one CRC-checked, opening with an OpusHead packet and followed by more
// pages. Layout from RFC 3533 (Ogg) and RFC 7845 (Ogg Opus).

const PAGE_HEADER_BYTES = 27;
const BOS_FLAG = 0x02;

let crcTable: Uint32Array | undefined;

/** Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial 0, no final xor. */
function oggCrc(b: Uint8Array, start: number, end: number, crcAt: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let r = i << 24;
      for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
      crcTable[i] = r >>> 0;
    }
  }
  let crc = 0;
  for (let i = start; i < end; i++) {
    // The CRC field itself counts as zeros.
    const byte = i >= crcAt && i < crcAt + 4 ? 0 : b[i]!;
    crc = ((crc << 8) ^ crcTable[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  }
  return crc;
}

interface OggPage {
  headerType: number;
  /** Offset of the page body. */
  body: number;
  bodyLength: number;
  /** Offset just past the page (may be past the end of a cut-off file). */
  end: number;
}

function isOggS(b: Uint8Array, at: number): boolean {
  return b[at] === 0x4f && b[at + 1] === 0x67 && b[at + 2] === 0x67 && b[at + 3] === 0x53;
}

/** The page header at `at`, or undefined when there is none (a header cut short counts as none). */
function oggPageAt(b: Uint8Array, at: number): OggPage | undefined {
  if (at + PAGE_HEADER_BYTES > b.length || !isOggS(b, at) || b[at + 4] !== 0) return undefined;
  const segments = b[at + 26]!;
  const body = at + PAGE_HEADER_BYTES + segments;
  if (body > b.length) return undefined;
  let bodyLength = 0;
  for (let i = 0; i < segments; i++) bodyLength += b[at + PAGE_HEADER_BYTES + i]!;
  return { headerType: b[at + 5]!, body, bodyLength, end: body + bodyLength };
}

/** Why `b` is not an Ogg Opus stream, or undefined when it is one. */
export function oggOpusProblem(b: Uint8Array): string | undefined {
  const first = oggPageAt(b, 0);
  if (!first) return 'no Ogg page ("OggS") at the start';
  if (first.end > b.length) return 'its first Ogg page is cut short';
  if (!(first.headerType & BOS_FLAG)) return 'its first Ogg page does not begin a stream';
  const stored = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(22, true);
  if (oggCrc(b, 0, first.end, 22) !== stored) return 'its first Ogg page fails its CRC check';
  const head = first.body;
  const magic = String.fromCharCode(...b.subarray(head, head + 8));
  if (first.bodyLength < 19 || magic !== 'OpusHead') return 'its first Ogg packet is not an OpusHead header (not Opus)';
  if ((b[head + 8]! & 0xf0) !== 0 || b[head + 9] === 0) return 'its OpusHead header has an unsupported version or no channels';
  let pages = 1;
  for (let at = first.end; at < b.length; ) {
    const page = oggPageAt(b, at);
    if (!page) return `no Ogg page where one should start (byte ${at})`;
    pages++;
    // A file cut off inside its last page is still audio up to there.
    if (page.end > b.length) break;
    at = page.end;
  }
  if (pages < 2) return 'it ends after the Opus header: no audio pages';
  return undefined;
}
