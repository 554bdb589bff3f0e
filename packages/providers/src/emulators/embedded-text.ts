// The text the emulators' audio carries, so a TTS -> STT round trip is exact without a speech
// model: a RIFF chunk `ktxt` in WAV (players skip unknown chunks) and an ID3v2.4 TXXX frame in
// MP3, with TLEN, the length the file promises, so a file cut short can be told. Core's
// parsers read the audio itself; this file reads and writes only these tags.

import { id3v2Length, isWav, parseWav } from '@korean-together/core/provider-kit';

/** RIFF chunk id holding the spoken text (UTF-8). Players skip unknown chunks. */
export const WAV_TEXT_CHUNK_ID = 'ktxt';
/** Description of the ID3v2 TXXX frame holding the spoken text. */
export const ID3_TEXT_DESCRIPTION = 'korean-together:text';

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });
const ascii = (b: Uint8Array, at: number, len: number): string => String.fromCharCode(...b.subarray(at, at + len));

// ---- WAV: the `ktxt` chunk -------------------------------------------------------------------

/** `wav` with a `ktxt` chunk holding `text` inserted before its data chunk (sizes updated). */
export function withWavText(wav: Uint8Array, text: string): Uint8Array {
  const info = parseWav(wav);
  if (!info) throw new RangeError('withWavText: not a WAV file');
  const body = utf8.encode(text);
  const chunk = new Uint8Array(8 + body.length + (body.length % 2));
  chunk.set(utf8.encode(WAV_TEXT_CHUNK_ID), 0);
  new DataView(chunk.buffer).setUint32(4, body.length, true);
  chunk.set(body, 8);
  const dataChunk = info.dataOffset - 8;
  const out = new Uint8Array(wav.length + chunk.length);
  out.set(wav.subarray(0, dataChunk), 0);
  out.set(chunk, dataChunk);
  out.set(wav.subarray(dataChunk), dataChunk + chunk.length);
  new DataView(out.buffer).setUint32(4, out.length - 8, true);
  return out;
}

/** The text of a WAV file's `ktxt` chunk (written before the data), or undefined. */
export function wavText(bytes: Uint8Array): string | undefined {
  if (!isWav(bytes)) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = ascii(bytes, at, 4);
    const size = v.getUint32(at + 4, true);
    if (id === WAV_TEXT_CHUNK_ID) return utf8Decoder.decode(bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + size)));
    if (id === 'data') return undefined;
    at += 8 + size + (size % 2);
  }
  return undefined;
}

// ---- MP3: the ID3v2 tag ----------------------------------------------------------------------

const syncsafe = (n: number): number[] => [(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f];
const readSyncsafe = (b: Uint8Array, at: number): number =>
  ((b[at]! & 0x7f) << 21) | ((b[at + 1]! & 0x7f) << 14) | ((b[at + 2]! & 0x7f) << 7) | (b[at + 3]! & 0x7f);

function id3Frame(id: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(10 + body.length);
  out.set(utf8.encode(id), 0);
  out.set(syncsafe(body.length), 4);
  out.set(body, 10);
  return out;
}

/** An ID3v2.4 tag with the text (TXXX, UTF-8) and the length in ms (TLEN), to put before MP3 frames. */
export function id3TextTag(text: string, durationMs: number): Uint8Array {
  const txxx = id3Frame('TXXX', new Uint8Array([3, ...utf8.encode(ID3_TEXT_DESCRIPTION), 0, ...utf8.encode(text)]));
  const tlen = id3Frame('TLEN', new Uint8Array([3, ...utf8.encode(String(durationMs))]));
  const size = txxx.length + tlen.length;
  const out = new Uint8Array(10 + size);
  out.set([0x49, 0x44, 0x33, 4, 0, 0, ...syncsafe(size)], 0);
  out.set(txxx, 10);
  out.set(tlen, 10 + txxx.length);
  return out;
}

export interface Id3Text {
  /** Text from the TXXX frame described `korean-together:text`. */
  text?: string;
  /** Length promised by the TLEN frame, in ms. */
  declaredDurationMs?: number;
}

/** The text and promised length of a leading ID3v2 tag (v2.3 or v2.4); undefined when there is no tag. */
export function id3Text(b: Uint8Array): Id3Text | undefined {
  if (id3v2Length(b) === 0) return undefined;
  const major = b[3]!;
  const end = Math.min(b.length, 10 + readSyncsafe(b, 6));
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Id3Text = {};
  for (let at = 10; at + 10 <= end && b[at] !== 0; ) {
    const id = ascii(b, at, 4);
    // v2.4 frame sizes are syncsafe, v2.3 ones plain big-endian.
    const len = major >= 4 ? readSyncsafe(b, at + 4) : v.getUint32(at + 4);
    const body = b.subarray(at + 10, Math.min(end, at + 10 + len));
    // Text encodings 3 (UTF-8) and 0 (Latin-1, ASCII here) only: the emulators write UTF-8.
    if (body[0] === 3 || body[0] === 0) {
      if (id === 'TXXX') {
        const sep = body.indexOf(0, 1);
        if (sep > 0 && utf8Decoder.decode(body.subarray(1, sep)) === ID3_TEXT_DESCRIPTION) out.text = utf8Decoder.decode(body.subarray(sep + 1));
      } else if (id === 'TLEN') {
        const n = Number(utf8Decoder.decode(body.subarray(1)).replace(/\0+$/, ''));
        if (Number.isFinite(n)) out.declaredDurationMs = n;
      }
    }
    at += 10 + len;
  }
  return out;
}

/** The text a WAV (`ktxt` chunk) or MP3 (ID3 TXXX frame) carries, or undefined. */
export function readEmbeddedText(bytes: Uint8Array): string | undefined {
  return isWav(bytes) ? wavText(bytes) : id3Text(bytes)?.text;
}
