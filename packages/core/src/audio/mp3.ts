// MPEG-1/2/2.5 audio frame scanning: enough to measure duration, detect a cut-off file and
// join several files into one stream of frames. Tables from the MPEG audio frame header spec.

const BITRATES_KBPS: Record<string, readonly number[]> = {
  'v1-l1': [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  'v1-l2': [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  'v1-l3': [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  'v2-l1': [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  'v2-l23': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const SAMPLE_RATES: Record<number, readonly number[]> = {
  3: [44100, 48000, 32000], // MPEG-1
  2: [22050, 24000, 16000], // MPEG-2
  0: [11025, 12000, 8000], // MPEG-2.5
};

export interface Mp3FrameHeader {
  /** Frame length in bytes, header included. */
  length: number;
  sampleRate: number;
  samples: number;
  /** Where a Xing/Info tag would sit, from the frame start. */
  xingOffset: number;
}

/** Parses the 4-byte frame header at `at`; undefined when it is not a valid, fixed-bitrate header. */
export function parseMp3FrameHeader(b: Uint8Array, at: number): Mp3FrameHeader | undefined {
  if (at + 4 > b.length) return undefined;
  const b1 = b[at + 1]!;
  const b2 = b[at + 2]!;
  const b3 = b[at + 3]!;
  if (b[at] !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const version = (b1 >> 3) & 3; // 0: 2.5, 1: reserved, 2: MPEG-2, 3: MPEG-1
  const layerBits = (b1 >> 1) & 3; // 1: III, 2: II, 3: I
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 3;
  if (version === 1 || layerBits === 0 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return undefined;
  const layer = 4 - layerBits;
  const v1 = version === 3;
  const table = v1 ? `v1-l${layer}` : layer === 1 ? 'v2-l1' : 'v2-l23';
  const bitrate = BITRATES_KBPS[table]![bitrateIndex]! * 1000;
  const sampleRate = SAMPLE_RATES[version]![rateIndex]!;
  const padding = (b2 >> 1) & 1;
  const mono = b3 >> 6 === 3;
  let length: number;
  let samples: number;
  if (layer === 1) {
    length = (Math.floor((12 * bitrate) / sampleRate) + padding) * 4;
    samples = 384;
  } else if (layer === 2 || v1) {
    length = Math.floor((144 * bitrate) / sampleRate) + padding;
    samples = 1152;
  } else {
    length = Math.floor((72 * bitrate) / sampleRate) + padding;
    samples = 576;
  }
  const xingOffset = 4 + (v1 ? (mono ? 17 : 32) : mono ? 9 : 17);
  return { length, sampleRate, samples, xingOffset };
}

/** Length of an ID3v2 tag at the start of `b` (0 when there is none). */
export function id3v2Length(b: Uint8Array): number {
  if (b.length < 10 || b[0] !== 0x49 || b[1] !== 0x44 || b[2] !== 0x33) return 0;
  const size = ((b[6]! & 0x7f) << 21) | ((b[7]! & 0x7f) << 14) | ((b[8]! & 0x7f) << 7) | (b[9]! & 0x7f);
  const footer = b[5]! & 0x10 ? 10 : 0;
  return Math.min(b.length, 10 + size + footer);
}

function isTagAt(b: Uint8Array, at: number, tag: string): boolean {
  if (at + tag.length > b.length) return false;
  for (let i = 0; i < tag.length; i++) if (b[at + i] !== tag.charCodeAt(i)) return false;
  return true;
}

export interface Mp3Scan {
  /** Audio frames in order (a leading Xing/Info/VBRI frame is listed in `infoFrame`, not here). */
  frames: { offset: number; length: number }[];
  /** The VBR/Info tag frame, when the file starts with one. */
  infoFrame: { offset: number; length: number } | undefined;
  sampleRate: number;
  /** Playing time of the frames, in milliseconds. */
  durationMs: number;
  /** True when the last frame is cut short. */
  truncated: boolean;
}

/**
 * Walks an MP3 file frame by frame (after any ID3v2 tag). Returns undefined when no
 * frame sync is found near the start. Stops at an ID3v1/APE tag or junk.
 */
export function scanMp3(b: Uint8Array): Mp3Scan | undefined {
  let at = id3v2Length(b);
  // Tolerate a little padding before the first frame, but insist on two frames in a row
  // (or one that ends exactly at the end) so random bytes are not taken for audio.
  const searchEnd = Math.min(b.length, at + 4096);
  let first: Mp3FrameHeader | undefined;
  for (; at < searchEnd; at++) {
    const h = parseMp3FrameHeader(b, at);
    if (!h) continue;
    const next = at + h.length;
    if (next === b.length || next > b.length || parseMp3FrameHeader(b, next)) {
      first = h;
      break;
    }
  }
  if (!first) return undefined;
  const frames: { offset: number; length: number }[] = [];
  let infoFrame: { offset: number; length: number } | undefined;
  let samples = 0;
  let truncated = false;
  while (at < b.length) {
    const h = parseMp3FrameHeader(b, at);
    if (!h) break;
    if (at + h.length > b.length) {
      truncated = true;
      break;
    }
    const isInfo =
      frames.length === 0 &&
      infoFrame === undefined &&
      (isTagAt(b, at + h.xingOffset, 'Xing') || isTagAt(b, at + h.xingOffset, 'Info') || isTagAt(b, at + 36, 'VBRI'));
    if (isInfo) infoFrame = { offset: at, length: h.length };
    else {
      frames.push({ offset: at, length: h.length });
      samples += h.samples;
    }
    at += h.length;
  }
  return { frames, infoFrame, sampleRate: first.sampleRate, durationMs: Math.round((samples * 1000) / first.sampleRate), truncated };
}

/**
 * Joins MP3 files into one stream of MPEG frames. ID3 tags and per-file Xing/Info frames
 * are dropped: their frame counts would describe one piece, not the whole, and players
 * read a plain frame stream correctly. Throws when a piece holds no MP3 frames.
 */
export function joinMp3(pieces: readonly Uint8Array[]): Uint8Array {
  if (pieces.length === 1) return pieces[0]!;
  const parts: Uint8Array[] = [];
  pieces.forEach((p, i) => {
    const scan = scanMp3(p);
    if (!scan || scan.frames.length === 0) throw new Error(`audio piece ${i + 1} of ${pieces.length} holds no MP3 frames`);
    const start = scan.frames[0]!.offset;
    const last = scan.frames[scan.frames.length - 1]!;
    // Frames are contiguous from the first to the last.
    parts.push(p.subarray(start, last.offset + last.length));
  });
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let at = 0;
  for (const x of parts) {
    out.set(x, at);
    at += x.length;
  }
  return out;
}

/** True when a tag that may end an MP3 file (ID3v1, APEv2, Lyrics3) starts at `at`. */
function isTrailingTagAt(b: Uint8Array, at: number): boolean {
  return isTagAt(b, at, 'TAG') || isTagAt(b, at, 'APETAGEX') || isTagAt(b, at, 'LYRICSBEGIN');
}

/**
 * Why `b` is not an MP3 stream, or undefined when it is one: a run of valid MPEG audio frame
 * headers after an optional ID3v2 tag (zeros or text hold none), covering most of the bytes.
 * Frames may end in a tag (ID3v1, APE, Lyrics3) or a last frame cut short.
 */
export function mp3Problem(b: Uint8Array): string | undefined {
  const scan = scanMp3(b);
  if (!scan || scan.frames.length === 0) return 'no run of MPEG audio frames after the ID3v2 tag (if any)';
  const start = scan.infoFrame?.offset ?? scan.frames[0]!.offset;
  const last = scan.frames[scan.frames.length - 1]!;
  const end = last.offset + last.length;
  if (end === b.length || scan.truncated || isTrailingTagAt(b, end)) return undefined;
  // Something else follows the frames. A stream with a damaged stretch is still audio; a few
  // frames in front of megabytes of anything else are not.
  const payload = b.length - id3v2Length(b);
  if ((end - start) * 2 < payload) return `its MPEG audio frames stop at byte ${end} of ${b.length}`;
  return undefined;
}
