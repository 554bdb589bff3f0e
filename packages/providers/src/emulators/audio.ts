// Audio the emulators speak and hear. The TTS emulators return real, playable audio (a WAV
// with a tone per syllable, or MP3 frames) that also carries its text; the STT emulators read
// that text back, so a TTS -> STT round trip is exact without a speech model. Tests and demos
// use the same helpers to fabricate learner audio. The parts live in files named after them:
// speech-synthesis (the tones and containers), embedded-text (the tags), audio-reading (core's
// parsers plus the tags), inband-text (text carried in the signal, for microphone audio) and
// hearing (what STT hears, and cutting audio short).

export {
  DEFAULT_SAMPLE_RATE_HERTZ,
  MP3_SAMPLE_RATE_HERTZ,
  MP3_BITRATE_KBPS,
  MP3_SAMPLES_PER_FRAME,
  SPEECH_TIMING,
  speechDurationMs,
  synthesizePcm,
  synthesizeWav,
  pcmToWav,
  synthesizeMp3,
} from './speech-synthesis.js';
export type { SynthesizeOptions } from './speech-synthesis.js';
export { WAV_TEXT_CHUNK_ID, ID3_TEXT_DESCRIPTION, readEmbeddedText } from './embedded-text.js';
export {
  wavInfo,
  wavDurationMs,
  mp3Info,
  mp3DurationMs,
  detectAudioContainer,
  estimateAudioDurationMs,
  ASSUMED_COMPRESSED_BYTES_PER_SECOND,
} from './audio-reading.js';
export type { TaggedWavInfo, Mp3Info, AudioContainer } from './audio-reading.js';
export { hearAudio, hearPcm, truncateAudio } from './hearing.js';
export { inbandTextPcm, readInbandText, synthesizeMicrophonePcm } from './inband-text.js';
export type { InbandText } from './inband-text.js';
export type { HeardAudio } from './hearing.js';
