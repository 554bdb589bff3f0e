import { evalSystemInstruction, evalUserPrompt } from '../eval/prompt.js';
import type { UsageUnits } from '../pricing/cost.js';
import { audioDurationMs } from '../audio/audio-info.js';
import type { Capability, EvalRequest, SttRequest, TtsRequest } from '../spec/types.js';

/** Gemini bills audio input at 32 tokens per second. */
const AUDIO_TOKENS_PER_SECOND = 32;
/**
 * OpenAI's token-billed transcribers (gpt-4o-transcribe, gpt-4o-mini-transcribe) bill about
 * 10 audio tokens per second of audio (one per 100 ms), counted here per started second.
 */
export const STT_AUDIO_TOKENS_PER_SECOND = 10;
/** The output cap of those transcribers (2,000 tokens): no transcript bills more. */
export const STT_MAX_OUTPUT_TOKENS = 2_000;
/** Lowest bitrate assumed when sizing audio whose container does not state its length: 6 kbit/s (Opus' floor). */
const MIN_AUDIO_BYTES_PER_SECOND = 750;

/** Audio length in ms: measured from the container when it says, else the longest the bytes could play. */
export function worstAudioMs(audio: Uint8Array, encoding: SttRequest['encoding'] | undefined, sampleRateHertz?: number): number {
  const known = encoding ? audioDurationMs(audio, encoding, sampleRateHertz) : undefined;
  return known ?? Math.ceil((audio.byteLength / MIN_AUDIO_BYTES_PER_SECOND) * 1000);
}

const ENCODING_BY_MIME: Record<string, SttRequest['encoding']> = {
  'audio/wav': 'LINEAR16',
  'audio/x-wav': 'LINEAR16',
  'audio/wave': 'LINEAR16',
  'audio/mpeg': 'MP3',
  'audio/mp3': 'MP3',
  'audio/flac': 'FLAC',
  'audio/ogg': 'OGG_OPUS',
  'audio/webm': 'WEBM_OPUS',
};

/**
 * The most a single attempt of this request can bill, in the price table's units. Upper
 * bounds, not guesses: a token is never shorter than one UTF-8 byte, output is capped by
 * maxOutputTokens, audio is measured from its container, or, when the container does not
 * state its length (WEBM), sized as if it played at 6 kbit/s.
 */
export function worstCaseUnits(capability: Capability, req: unknown, maxOutputTokens: number, passMark: number): UsageUnits {
  switch (capability) {
    case 'eval': {
      const r = req as EvalRequest;
      let tokensIn = Buffer.byteLength(evalSystemInstruction(passMark), 'utf8') + Buffer.byteLength(evalUserPrompt(r), 'utf8');
      if (r.audio) {
        const audioTokensIn = Math.ceil(worstAudioMs(r.audio.data, ENCODING_BY_MIME[r.audio.mimeType.toLowerCase()]) / 1000) * AUDIO_TOKENS_PER_SECOND;
        return { tokensIn: tokensIn + audioTokensIn, audioTokensIn, tokensOut: maxOutputTokens, requests: 1 };
      }
      return { tokensIn, tokensOut: maxOutputTokens, requests: 1 };
    }
    case 'stt': {
      const r = req as SttRequest;
      const audioMs = worstAudioMs(r.audio, r.encoding, r.sampleRateHertz);
      // Both ways a transcriber bills: per audio second (Google, whisper-1) and per token (the
      // GPT-4o transcribers, whose price rows are token rows). The model's rows price only the
      // units they charge, so each model's worst case counts its own units.
      const audioTokensIn = Math.ceil(audioMs / 1000) * STT_AUDIO_TOKENS_PER_SECOND;
      return { audioDurationMs: audioMs, tokensIn: audioTokensIn, audioTokensIn, tokensOut: STT_MAX_OUTPUT_TOKENS, requests: 1 };
    }
    case 'tts': {
      const r = req as TtsRequest;
      // Code points, not UTF-16 units: Google and OpenAI bill characters.
      let characters = 0;
      for (const _ of r.text) characters++;
      return { characters, requests: 1 };
    }
  }
}
