/**
 * The form of a text that a cache key hashes: Unicode NFC (a precomposed 한 and its jamo
 * sequence are the same syllable), runs of whitespace (any Unicode space, newlines) as one
 * space, no leading or trailing space. Two texts with the same form are spoken and graded alike.
 */
export function normalizeText(text: string): string {
  return text.normalize('NFC').replace(/\s+/gu, ' ').trim();
}
