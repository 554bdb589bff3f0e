/** What a RIFF/WAVE header says about its audio. */
export interface WavInfo {
  /** WAVE format tag: 1 = PCM, 3 = IEEE float, 0xFFFE = extensible. */
  format: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  /** Bytes per sample frame (all channels). */
  blockAlign: number;
  /** Offset of the first audio byte. */
  dataOffset: number;
  /** Audio bytes present in the buffer (never past its end). */
  dataLength: number;
  /** Audio bytes the header promises, when it states a real size (streamed WAVs write 0 or 0xFFFFFFFF). */
  declaredDataLength: number | undefined;
  /** True when the header promises more audio bytes than the buffer holds. */
  truncated: boolean;
  /** Duration of the audio present, in milliseconds. */
  durationMs: number;
  /** The raw `fmt ` chunk body, reused when writing a joined file. */
  fmtChunk: Uint8Array;
}

const ascii = (b: Uint8Array, at: number, len: number): string => String.fromCharCode(...b.subarray(at, at + len));
const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** True when the bytes start with a RIFF/WAVE header. */
export function isWav(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WAVE';
}

/**
 * Reads a WAV header by walking its chunks. Returns undefined for anything that is not a
 * RIFF/WAVE file with `fmt ` and `data` chunks.
 */
export function parseWav(bytes: Uint8Array): WavInfo | undefined {
  if (!isWav(bytes)) return undefined;
  const dv = view(bytes);
  let at = 12;
  let fmt: Uint8Array | undefined;
  while (at + 8 <= bytes.length) {
    const id = ascii(bytes, at, 4);
    const size = dv.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + size > bytes.length) return undefined;
      fmt = bytes.slice(body, body + size);
    } else if (id === 'data') {
      if (!fmt) return undefined;
      const f = view(fmt);
      const format = f.getUint16(0, true);
      const channels = f.getUint16(2, true);
      const sampleRate = f.getUint32(4, true);
      const blockAlign = f.getUint16(12, true);
      const bitsPerSample = f.getUint16(14, true);
      if (!channels || !sampleRate || !blockAlign) return undefined;
      const available = bytes.length - body;
      const declared = size === 0 || size === 0xffffffff ? undefined : size;
      const dataLength = declared === undefined ? available : Math.min(declared, available);
      const frames = Math.floor(dataLength / blockAlign);
      return {
        format,
        channels,
        sampleRate,
        bitsPerSample,
        blockAlign,
        dataOffset: body,
        dataLength,
        declaredDataLength: declared,
        truncated: declared !== undefined && declared > available,
        durationMs: Math.round((frames * 1000) / sampleRate),
        fmtChunk: fmt,
      };
    }
    // Chunks are padded to an even size.
    at = body + size + (size % 2);
  }
  return undefined;
}

/** The audio bytes of a parsed WAV. */
export function wavData(bytes: Uint8Array, info: WavInfo): Uint8Array {
  return bytes.subarray(info.dataOffset, info.dataOffset + info.dataLength);
}

/** A WAV file holding `data` in the format of `fmtChunk`, with sizes filled in. */
export function buildWav(fmtChunk: Uint8Array, data: Uint8Array): Uint8Array {
  const fmtPad = fmtChunk.length % 2;
  const dataPad = data.length % 2;
  const total = 12 + 8 + fmtChunk.length + fmtPad + 8 + data.length + dataPad;
  const out = new Uint8Array(total);
  const dv = view(out);
  const put = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i);
  };
  put(0, 'RIFF');
  dv.setUint32(4, total - 8, true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  dv.setUint32(16, fmtChunk.length, true);
  out.set(fmtChunk, 20);
  const dataAt = 20 + fmtChunk.length + fmtPad;
  put(dataAt, 'data');
  dv.setUint32(dataAt + 4, data.length, true);
  out.set(data, dataAt + 8);
  return out;
}

/** A PCM WAV header's `fmt ` body for 16-bit little-endian samples. */
export function pcm16Fmt(sampleRate: number, channels = 1): Uint8Array {
  const fmt = new Uint8Array(16);
  const dv = view(fmt);
  dv.setUint16(0, 1, true);
  dv.setUint16(2, channels, true);
  dv.setUint32(4, sampleRate, true);
  dv.setUint32(8, sampleRate * channels * 2, true);
  dv.setUint16(12, channels * 2, true);
  dv.setUint16(14, 16, true);
  return fmt;
}

/**
 * Joins WAV files of one format into one file: the audio of every piece, in order, under a
 * single header whose sizes cover the total. Throws when a piece is not WAV or the formats differ.
 */
export function joinWav(pieces: readonly Uint8Array[]): Uint8Array {
  if (pieces.length === 1) return pieces[0]!;
  const infos = pieces.map((p, i) => {
    const info = parseWav(p);
    if (!info) throw new Error(`audio piece ${i + 1} of ${pieces.length} is not a WAV file`);
    return info;
  });
  const first = infos[0]!;
  infos.forEach((info, i) => {
    if (info.format !== first.format || info.channels !== first.channels || info.sampleRate !== first.sampleRate || info.bitsPerSample !== first.bitsPerSample) {
      throw new Error(`audio piece ${i + 1} has a different format (${info.sampleRate} Hz, ${info.channels} ch, ${info.bitsPerSample} bit) from piece 1 (${first.sampleRate} Hz, ${first.channels} ch, ${first.bitsPerSample} bit)`);
    }
  });
  const total = infos.reduce((n, info) => n + info.dataLength, 0);
  const data = new Uint8Array(total);
  let at = 0;
  pieces.forEach((p, i) => {
    const chunk = wavData(p, infos[i]!);
    data.set(chunk, at);
    at += chunk.length;
  });
  return buildWav(first.fmtChunk, data);
}
