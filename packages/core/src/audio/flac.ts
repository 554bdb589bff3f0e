// FLAC container check: the "fLaC" marker, a STREAMINFO block first, metadata blocks that fit,
// then a frame sync code where the audio starts. Layout from the FLAC format specification.
import { id3v2Length } from './mp3.js';

const STREAMINFO_LENGTH = 34;
const INVALID_BLOCK_TYPE = 127;

/** Why `b` is not a FLAC stream, or undefined when it is one (a leading ID3v2 tag is allowed). */
export function flacProblem(b: Uint8Array): string | undefined {
  let at = id3v2Length(b);
  if (!(b[at] === 0x66 && b[at + 1] === 0x4c && b[at + 2] === 0x61 && b[at + 3] === 0x43)) return 'no "fLaC" marker at the start';
  at += 4;
  for (let index = 0; ; index++) {
    if (at + 4 > b.length) return 'its metadata blocks are cut short';
    const header = b[at]!;
    const type = header & 0x7f;
    const length = (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
    const body = at + 4;
    if (index === 0) {
      if (type !== 0 || length !== STREAMINFO_LENGTH) return 'the first metadata block is not a STREAMINFO block';
      if (body + length > b.length) return 'its STREAMINFO block is cut short';
      const minBlock = (b[body]! << 8) | b[body + 1]!;
      const maxBlock = (b[body + 2]! << 8) | b[body + 3]!;
      const sampleRate = (b[body + 10]! << 12) | (b[body + 11]! << 4) | (b[body + 12]! >> 4);
      const bitsPerSample = (((b[body + 12]! & 1) << 4) | (b[body + 13]! >> 4)) + 1;
      if (minBlock < 16 || maxBlock < minBlock || sampleRate === 0 || sampleRate > 655_350 || bitsPerSample < 4) {
        return 'its STREAMINFO block holds impossible values (block sizes, sample rate or bits per sample)';
      }
    } else if (type === INVALID_BLOCK_TYPE || type === 0) {
      return `metadata block ${index + 1} has ${type === 0 ? 'a second STREAMINFO' : 'the invalid type 127'}`;
    }
    at = body + length;
    if (at > b.length) return `metadata block ${index + 1} runs past the end`;
    if (header & 0x80) break;
  }
  // Every FLAC frame starts with the 14-bit sync code 0b11111111111110 and a reserved 0 bit.
  if (at + 2 > b.length) return 'no audio frames follow its metadata';
  if (b[at] !== 0xff || (b[at + 1]! & 0xfe) !== 0xf8) return `no FLAC frame sync where the audio should start (byte ${at})`;
  return undefined;
}
