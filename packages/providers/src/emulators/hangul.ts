// Hangul syllable arithmetic (Unicode "Hangul Syllables" block, U+AC00..U+D7A3).
// A precomposed syllable is 0xAC00 + (initial * 21 + medial) * 28 + final, where final 0
// means "no final consonant (batchim)". Particle choice (은/는, 이/가, 을/를 ...) and the
// 합쇼체 ending -ㅂ니다 depend only on that final, so no dictionary is needed.

const FIRST = 0xac00;
const LAST = 0xd7a3;
const FINALS = 28;
const MEDIALS = 21;

/** Index of the final consonant ㄹ, which behaves like a vowel before 로. */
export const FINAL_RIEUL = 8;
/** Index of the final consonant ㅂ (as in 갑니다). */
export const FINAL_BIEUP = 17;

/** True for a precomposed Hangul syllable such as '한'. */
export function isHangulSyllable(ch: string): boolean {
  const c = ch.codePointAt(0);
  return c !== undefined && c >= FIRST && c <= LAST;
}

/** The final-consonant index of a syllable (0 = none), or undefined for anything else. */
export function finalIndex(ch: string): number | undefined {
  if (!isHangulSyllable(ch)) return undefined;
  return (ch.codePointAt(0)! - FIRST) % FINALS;
}

/** The medial (vowel) index 0..20 of a syllable, or undefined for anything else. */
export function medialIndex(ch: string): number | undefined {
  if (!isHangulSyllable(ch)) return undefined;
  return Math.floor(((ch.codePointAt(0)! - FIRST) % (MEDIALS * FINALS)) / FINALS);
}

/** Number of Hangul syllables in a string. */
export function countHangulSyllables(text: string): number {
  let n = 0;
  for (const ch of text) if (isHangulSyllable(ch)) n++;
  return n;
}
