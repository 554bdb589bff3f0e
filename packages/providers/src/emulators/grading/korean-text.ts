// Text helpers the grading rules share: comparison form, words, sentences, code points.

/** Comparison form: NFC, lower case, letters and digits only (spacing and punctuation ignored). */
export function normalizeKorean(text: string): string {
  return text.normalize('NFC').toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
}

/** The words of `text` (NFC), split at whitespace, with punctuation trimmed from each end. */
export function words(text: string): string[] {
  return text
    .normalize('NFC')
    .split(/\s+/u)
    .map((w) => w.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''))
    .filter(Boolean);
}

/** The sentences of `text` (NFC): split after . ! ? and at line breaks, those without letters dropped. */
export function sentences(text: string): string[] {
  return text
    .normalize('NFC')
    .split(/(?<=[.!?。！？])\s+|\n+/u)
    .map((s) => s.trim())
    .filter((s) => /\p{L}/u.test(s));
}

/** The code points of `s` (a Hangul syllable is one). */
export function chars(s: string): string[] {
  return [...s];
}

/** The last code point of `s`, or ''. */
export function lastChar(s: string): string {
  const c = chars(s);
  return c[c.length - 1] ?? '';
}

/** `s` cut to at most `max` code points, the cut marked with an ellipsis. */
export function clip(s: string, max: number): string {
  const c = chars(s);
  return c.length > max ? `${c.slice(0, max - 1).join('')}…` : s;
}
