import { evalSystemInstruction, evalUserPrompt } from '../eval/prompt.js';
import type { UsageUnits } from '../pricing/cost.js';
import { audioDurationMs } from '../audio/audio-info.js';
import type { Capability, EvalRequest, SttRequest, TtsRequest } from '../spec/types.js';

/** Gemini bills audio input at 32 tokens per second. */
const AUDIO_TOKENS_PER_SECOND = 32;
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
      return { audioDurationMs: worstAudioMs(r.audio, r.encoding, r.sampleRateHertz), requests: 1 };
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
