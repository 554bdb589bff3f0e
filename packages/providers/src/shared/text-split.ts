/** How long a piece of text is, in the unit the provider limits (UTF-8 bytes, code points...). */
export type TextMeasure = (text: string) => number;

export const utf8Bytes: TextMeasure = (text) => Buffer.byteLength(text, 'utf8');
export const codePoints: TextMeasure = (text) => {
  let n = 0;
  for (const _ of text) n++;
  return n;
};

// Boundaries, strongest first. Each match marks a cut right after it, so the separator stays
// with the piece before it and the pieces concatenate back to the original text.
const LEVELS: readonly RegExp[] = [
  // Sentence ends: punctuation (with closing quotes/brackets) then space, and line breaks.
  /[.!?。！？…]+["'”’)\]」』]*\s+|\n+/gu,
  // Korean sentence endings without punctuation (polite and formal verb endings) then space.
  /(?:니다|니까|어요|아요|에요|예요|여요|해요|세요|까요|네요|군요|지요|래요|죠)\s+/gu,
  // Clauses: commas, semicolons, colons.
  /[,，、;；:：]\s*/gu,
  // Words.
  /\s+/gu,
];

function cutAfter(text: string, re: RegExp): string[] {
  const out: string[] = [];
  let from = 0;
  for (const m of text.matchAll(re)) {
    const end = m.index + m[0].length;
    if (end <= from || end >= text.length) continue;
    out.push(text.slice(from, end));
    from = end;
  }
  out.push(text.slice(from));
  return out;
}

/** Raised when a single unbreakable run (one word) is longer than the limit. */
export class TextTooLongError extends Error {
  constructor(readonly pieceLength: number, readonly limit: number) {
    super(`a single word is ${pieceLength} units long, over the limit of ${limit}`);
    this.name = 'TextTooLongError';
  }
}

function splitLevel(text: string, limit: number, measure: TextMeasure, level: number): string[] {
  if (measure(text) <= limit) return [text];
  const re = LEVELS[level];
  if (!re) throw new TextTooLongError(measure(text), limit);
  const units = cutAfter(text, re).flatMap((u) => splitLevel(u, limit, measure, level + 1));
  // Greedy packing: adjacent units share a piece while it fits.
  const pieces: string[] = [];
  let current = '';
  for (const u of units) {
    if (current !== '' && measure(current + u) > limit) {
      pieces.push(current);
      current = u;
    } else current += u;
  }
  if (current !== '') pieces.push(current);
  return pieces;
}

/**
 * Splits `text` into pieces of at most `limit` (in `measure` units), cutting at sentence ends
 * first (. ! ? 。, Korean sentence endings, line breaks), then at commas, then at spaces.
 * The pieces concatenate back to `text` exactly. Throws TextTooLongError when one word alone
 * exceeds the limit.
 */
export function splitText(text: string, limit: number, measure: TextMeasure = utf8Bytes): string[] {
  if (!(limit > 0)) throw new RangeError(`limit must be positive, got ${limit}`);
  return splitLevel(text, limit, measure, 0);
}
