// WebM container check: an EBML header (0x1A45DFA3) whose DocType is "webm", a Segment, and in
// it a Tracks element with an Opus track (CodecID "A_OPUS") before the first Cluster of audio.
// Element IDs and variable-length integers from the EBML (RFC 8794) and Matroska specifications.

const EBML = 0x1a45dfa3;
const DOC_TYPE = 0x4282;
const SEGMENT = 0x18538067;
const TRACKS = 0x1654ae6b;
const TRACK_ENTRY = 0xae;
const CODEC_ID = 0x86;
const CLUSTER = 0x1f43b675;

interface Element {
  id: number;
  /** Offset of the element's data. */
  data: number;
  /** Data size; undefined for "unknown size" (live streams such as MediaRecorder's). */
  size: number | undefined;
}

/** The element header at `at`, or undefined when the bytes there are not one. */
function elementAt(b: Uint8Array, at: number): Element | undefined {
  const first = b[at];
  if (first === undefined || first === 0) return undefined;
  const idLength = Math.clz32(first) - 23; // 1..4 for a valid ID (leading zeros of the byte, plus one)
  if (idLength > 4 || at + idLength > b.length) return undefined;
  let id = 0;
  for (let i = 0; i < idLength; i++) id = id * 256 + b[at + i]!;
  const sizeAt = at + idLength;
  const s0 = b[sizeAt];
  if (s0 === undefined || s0 === 0) return undefined;
  const sizeLength = Math.clz32(s0) - 23; // 1..8
  if (sizeAt + sizeLength > b.length) return undefined;
  let size = s0 & (0xff >> sizeLength);
  let allOnes = size === 0xff >> sizeLength;
  for (let i = 1; i < sizeLength; i++) {
    const byte = b[sizeAt + i]!;
    size = size * 256 + byte;
    allOnes &&= byte === 0xff;
  }
  return { id, data: sizeAt + sizeLength, size: allOnes ? undefined : size };
}

/** The children of the element whose data spans [from, to), read until one cannot be skipped. */
function* children(b: Uint8Array, from: number, to: number): Generator<Element | 'broken'> {
  for (let at = from; at < to; ) {
    const e = elementAt(b, at);
    if (!e) {
      yield 'broken';
      return;
    }
    yield e;
    if (e.size === undefined) return;
    at = e.data + e.size;
  }
}

const ascii = (b: Uint8Array, from: number, to: number): string => String.fromCharCode(...b.subarray(from, Math.min(to, b.length))).replace(/\0+$/, '');

/** Why `b` is not a WebM file with an Opus track, or undefined when it is one. */
export function webmOpusProblem(b: Uint8Array): string | undefined {
  const header = elementAt(b, 0);
  if (!header || header.id !== EBML) return 'no EBML header (0x1A45DFA3) at the start';
  if (header.size === undefined || header.data + header.size > b.length) return 'its EBML header is cut short';
  let docType: string | undefined;
  for (const e of children(b, header.data, header.data + header.size)) {
    if (e === 'broken') return 'its EBML header does not parse';
    if (e.id === DOC_TYPE && e.size !== undefined) docType = ascii(b, e.data, e.data + e.size);
  }
  // The value is not quoted: it is the caller's bytes.
  if (docType !== 'webm') return docType === undefined ? 'its EBML header names no DocType' : "its EBML DocType is not 'webm'";
  const segment = elementAt(b, header.data + header.size);
  if (!segment || segment.id !== SEGMENT) return 'no Segment follows the EBML header';
  const segmentEnd = segment.size === undefined ? b.length : Math.min(b.length, segment.data + segment.size);
  let opus = false;
  let tracks = false;
  for (const e of children(b, segment.data, segmentEnd)) {
    if (e === 'broken') return 'its Segment holds bytes that are not EBML elements';
    if (e.id === CLUSTER) {
      if (!tracks) return 'its first Cluster comes before any Tracks element';
      return opus ? undefined : 'it has no Opus track (CodecID A_OPUS)';
    }
    if (e.id === TRACKS && e.size !== undefined) {
      tracks = true;
      for (const entry of children(b, e.data, Math.min(b.length, e.data + e.size))) {
        if (entry === 'broken') return 'its Tracks element does not parse';
        if (entry.id !== TRACK_ENTRY || entry.size === undefined) continue;
        for (const field of children(b, entry.data, Math.min(b.length, entry.data + entry.size))) {
          if (field !== 'broken' && field.id === CODEC_ID && field.size !== undefined && ascii(b, field.data, field.data + field.size) === 'A_OPUS') opus = true;
        }
      }
    }
  }
  if (!tracks) return 'it has no Tracks element';
  return opus ? 'it holds no audio (no Cluster)' : 'it has no Opus track (CodecID A_OPUS)';
}
