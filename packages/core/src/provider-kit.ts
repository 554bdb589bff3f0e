// @korean-together/core/provider-kit: what a provider adapter needs besides the provider spec
// types (those come from '@korean-together/core'): mapping its client's errors to AiErrors
// (codes decided once, here), redacting and truncating provider text, the audio parsers, the
// request limits and validators the client itself applies, and the evaluation prompt contract.

// Error mapping and redaction
export {
  safeProviderText,
  MAX_PROVIDER_TEXT,
  codeForHttpStatus,
  codeForGrpcStatus,
  GrpcStatus,
  classifyProviderError,
  googleErrorDetails,
  openAiErrorDetails,
  GOOGLE_ERROR_DOMAIN,
  OPENAI_ERROR_DOMAIN,
  httpError,
  parseRetryAfter,
  parseRetryDelay,
  retryAfterFromHeaders,
} from './errors/map.js';
export type { ErrorDetails } from './errors/map.js';

// Request limits and validators (one set, shared with the client)
export {
  MAX_SYNC_AUDIO_BYTES,
  MAX_SYNC_AUDIO_MS,
  MAX_EVAL_TEXT_CHARS,
  MAX_EVAL_AUDIO_BYTES,
  MAX_EVAL_LEVEL_CHARS,
  MAX_VOICE_CHARS,
  MAX_TIMER_MS,
  SYNC_STT_LIMITS,
  GOOGLE_SYNC_STT_LIMITS,
  WHISPER_STT_LIMITS,
} from './requests/limits.js';
export type { SttLimits } from './requests/limits.js';
export { validateSttRequest } from './requests/stt-request.js';
export type { SttAudioFacts, SttCheckOptions } from './requests/stt-request.js';
export { validateTtsRequest } from './requests/tts-request.js';
export type { TtsCheckOptions } from './requests/tts-request.js';
export { validateEvalRequest } from './requests/eval-request.js';
export { invalidRequest, requestError } from './requests/invalid-request.js';
export type { RequestCheckOptions } from './requests/invalid-request.js';

// Audio parsers
export { audioDurationMs, flacDurationMs, oggOpusDurationMs } from './audio/audio-info.js';
export { audioContainerProblem } from './audio/container-check.js';
export { mp3Problem, scanMp3, joinMp3, parseMp3FrameHeader, id3v2Length } from './audio/mp3.js';
export type { Mp3Scan, Mp3FrameHeader } from './audio/mp3.js';
export { flacProblem } from './audio/flac.js';
export { oggOpusProblem } from './audio/ogg.js';
export { webmOpusProblem } from './audio/webm.js';
export { parseWav, joinWav, buildWav, pcm16Fmt, isWav, wavData } from './audio/wav.js';
export type { WavInfo } from './audio/wav.js';

// The evaluation contract every evaluator sends and the core checks
export { evalSystemInstruction, evalUserPrompt, FORMALITY_LABELS } from './eval/prompt.js';
export { evalOutputSchema, evalOutputJsonSchema, checkEvalOutput } from './eval/eval-result.js';
export type { EvalOutput } from './eval/eval-result.js';

// Streaming synthesis for voices without it: sentence by sentence over the one-shot call
export { sentenceStream, DEFAULT_STREAM_RATE_HZ } from './streaming/sentence-synthesis.js';
export { SentenceSplitter, splitSentences } from './streaming/sentence-split.js';
