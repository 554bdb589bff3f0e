import type { AudioEncoding } from '../spec/types.js';
import { flacProblem } from './flac.js';
import { mp3Problem } from './mp3.js';
import { oggOpusProblem } from './ogg.js';
import { isWav, parseWav } from './wav.js';
import { webmOpusProblem } from './webm.js';

/** Magic numbers of other containers: raw LINEAR16 samples starting with one were mislabelled. */
const OTHER_CONTAINERS: [string, number[]][] = [
  ['FLAC', [0x66, 0x4c, 0x61, 0x43]],
  ['Ogg', [0x4f, 0x67, 0x67, 0x53]],
  ['WebM/Matroska', [0x1a, 0x45, 0xdf, 0xa3]],
];

/**
 * Why `audio` does not parse as what `encoding` claims, or undefined when it does. Checks the
 * container's structure, not the codec's bitstream: enough to refuse text, images, random
 * bytes or zeros before a provider is paid for them. Raw LINEAR16 (no WAV header) is any
 * sequence of samples and is accepted as such, unless it starts with another container's header.
 */
export function audioContainerProblem(audio: Uint8Array, encoding: AudioEncoding): string | undefined {
  switch (encoding) {
    case 'LINEAR16': {
      if (isWav(audio)) {
        const wav = parseWav(audio);
        if (!wav) return 'its RIFF/WAVE header does not parse (no valid fmt and data chunks)';
        if (wav.dataLength === 0) return 'its WAV data chunk holds no audio';
        return undefined;
      }
      for (const [name, magic] of OTHER_CONTAINERS) {
        if (magic.every((byte, i) => audio[i] === byte)) return `it starts with a ${name} header, not raw samples or a WAV header`;
      }
      return undefined;
    }
    case 'MP3':
      return mp3Problem(audio);
    case 'FLAC':
      return flacProblem(audio);
    case 'OGG_OPUS':
      return oggOpusProblem(audio);
    case 'WEBM_OPUS':
      return webmOpusProblem(audio);
  }
}
