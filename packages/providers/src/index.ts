// Every public export of @korean-together/providers, by name.
export { geminiEvaluator, GeminiEvaluator } from './gemini/gemini-evaluator.js';
export type { GeminiEvaluatorOptions } from './gemini/options.js';
export { openaiEvaluator, OpenAiEvaluator } from './openai-eval/openai-evaluator.js';
export type { OpenAiEvaluatorOptions, AzureOpenAiOptions } from './openai-eval/options.js';
export { toStrictSchema, dropNullOptionals } from './openai-eval/strict-schema.js';
export { googleStt, GoogleStt } from './google-stt/google-stt.js';
export type { GoogleSttOptions, SpeechClientOptions } from './google-stt/options.js';
export { googleTts, GoogleTts, languageOfVoice } from './google-tts/google-tts.js';
export type { GoogleTtsOptions, TextToSpeechClientOptions } from './google-tts/options.js';
export { whisperStt, WhisperStt } from './whisper/whisper-stt.js';
export type { WhisperSttOptions } from './whisper/options.js';
export type { WhisperSttResult } from './whisper/whisper-stt.js';
export { httpTts, HttpTts } from './http-tts/http-tts.js';
export type { HttpTtsOptions } from './http-tts/options.js';
export { splitText, TextTooLongError, utf8Bytes, codePoints } from './shared/text-split.js';
export type { TextMeasure } from './shared/text-split.js';
// Audio helpers, request limits and validators are core's (one set, shared with the client),
// re-exported here for code that imported them from this package.
export { parseWav, joinWav, buildWav, pcm16Fmt, isWav, scanMp3, joinMp3, audioDurationMs } from '@korean-together/core/provider-kit';
export type { WavInfo, Mp3Scan } from '@korean-together/core/provider-kit';
export { GOOGLE_SYNC_STT_LIMITS, WHISPER_STT_LIMITS, validateSttRequest, validateTtsRequest, validateEvalRequest } from '@korean-together/core/provider-kit';
export type { SttLimits } from '@korean-together/core/provider-kit';
