import { evalSystemInstruction, evalUserPrompt } from '../eval/prompt.js';
import type { UsageUnits } from '../pricing/cost.js';
import { linear16DurationMs, MAX_SYNC_AUDIO_MS } from '../requests/validate.js';
import type { Capability, EvalRequest, SttRequest, TtsRequest } from '../spec/types.js';

/** Gemini bills audio input at 32 tokens per second. */
const AUDIO_TOKENS_PER_SECOND = 32;
/** Lowest bitrate assumed when sizing audio of unknown length: 16 kbit/s = 2000 bytes/s. */
const MIN_AUDIO_BYTES_PER_SECOND = 2_000;

/**
 * The most a single attempt of this request can bill, in the price table's units. Upper
 * bounds, not guesses: a token is never shorter than one UTF-8 byte, output is capped by
 * maxOutputTokens, STT audio of unknown length is assumed to be the 60 s sync maximum.
 */
export function worstCaseUnits(capability: Capability, req: unknown, maxOutputTokens: number, passMark: number): UsageUnits {
  switch (capability) {
    case 'eval': {
      const r = req as EvalRequest;
      let tokensIn = Buffer.byteLength(evalSystemInstruction(passMark), 'utf8') + Buffer.byteLength(evalUserPrompt(r), 'utf8');
      if (r.audio) tokensIn += Math.ceil(r.audio.data.byteLength / MIN_AUDIO_BYTES_PER_SECOND) * AUDIO_TOKENS_PER_SECOND;
      return { tokensIn, tokensOut: maxOutputTokens, requests: 1 };
    }
    case 'stt': {
      const r = req as SttRequest;
      const known = linear16DurationMs(r);
      return { audioDurationMs: known ?? MAX_SYNC_AUDIO_MS, requests: 1 };
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
