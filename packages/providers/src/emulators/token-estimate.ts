// The token estimate every emulator bills with (Gemini usage metadata, GPT-4o transcription usage).

import { countHangulSyllables } from './hangul.js';

/**
 * Token estimate used for usage metadata: one token per Hangul syllable plus one per four
 * other characters (English prose averages about four characters per token).
 */
export function estimateTokens(text: string): number {
  if (!text) return 0;
  const hangul = countHangulSyllables(text);
  return hangul + Math.ceil(([...text].length - hangul) / 4);
}
