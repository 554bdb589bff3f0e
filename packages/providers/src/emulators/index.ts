// Every public export of @korean-together/providers/emulators, by name.
export { startEmulators, EMULATOR_GEMINI_API_VERSION, EMULATOR_VERTEX_API_VERSION, EMULATOR_VERTEX_PROJECT, EMULATOR_VERTEX_LOCATION } from './start-emulators.js';
export { emulatorEnv } from './emulator-env.js';
export type { EmulatorTarget, Fault, FaultRule, Faults, Hits, StartEmulatorsOptions, Emulators, StreamTiming, StreamTimingControl } from './types.js';
export { EMULATOR_TARGETS, FAULT_TARGETS, STREAM_FAULT_KINDS } from './faults.js';
export { DEFAULT_STREAM_TIMING } from './stream-timing.js';
export { STREAMING_RECOGNIZE_MAX_CHUNK_BYTES, STREAMING_RECOGNIZE_MAX_MS } from './google-streaming-recognize.js';
export { STREAMING_SYNTHESIZE_ENCODINGS } from './google-streaming-synthesize.js';
export {
  synthesizeWav,
  synthesizeMp3,
  synthesizePcm,
  pcmToWav,
  readEmbeddedText,
  hearAudio,
  hearPcm,
  inbandTextPcm,
  readInbandText,
  synthesizeMicrophonePcm,
  wavInfo,
  wavDurationMs,
  mp3Info,
  mp3DurationMs,
  estimateAudioDurationMs,
  detectAudioContainer,
  truncateAudio,
  speechDurationMs,
  SPEECH_TIMING,
  DEFAULT_SAMPLE_RATE_HERTZ,
  MP3_SAMPLE_RATE_HERTZ,
  MP3_BITRATE_KBPS,
  MP3_SAMPLES_PER_FRAME,
  WAV_TEXT_CHUNK_ID,
  ID3_TEXT_DESCRIPTION,
  ASSUMED_COMPRESSED_BYTES_PER_SECOND,
} from './audio.js';
export type { SynthesizeOptions, TaggedWavInfo, Mp3Info, HeardAudio, AudioContainer, InbandText } from './audio.js';
export { gradeAnswer, parseEvalPrompt, parsePassMark, detectFormality, convertEnding, normalizeKorean, DEFAULT_PASS_MARK, PENALTIES } from './grading.js';
export type { GradeInput, ParsedEvalPrompt } from './grading.js';
export { estimateTokens, thinkingTokens, AUDIO_TOKENS_PER_SECOND } from './gemini-server.js';
export { SYNC_RECOGNIZE_MAX_BYTES, SYNC_RECOGNIZE_MAX_MS, TTS_MAX_INPUT_BYTES } from './google-grpc-server.js';
export { CHAT_MAX_REQUEST_BYTES, CHAT_CONTEXT_TOKENS, CHAT_TOKENS_PER_MESSAGE, PROMPT_CACHE_MIN_TOKENS, PROMPT_CACHE_STEP_TOKENS, strictSchemaProblem } from './openai-chat-server.js';
export { WHISPER_MAX_FILE_BYTES, SPEECH_MAX_INPUT_CHARS, OPENAI_SPEECH_SAMPLE_RATE_HERTZ, TRANSCRIBE_AUDIO_TOKENS_PER_SECOND } from './openai-audio-server.js';
export { EMULATED_VOICES } from './google-voices.js';
export type { EmulatedVoice } from './google-voices.js';
