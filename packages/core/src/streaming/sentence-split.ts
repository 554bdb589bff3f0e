// Cuts text arriving in pieces (an LLM's reply) into sentences as soon as each one is complete,
// so a synthesiser without streaming can start on the first sentence while the rest is written.

/** Ends a sentence when followed by whitespace (Latin and Korean text: '다.', '요?', '!'). */
const ENDERS = new Set(['.', '!', '?', '…']);
/** Full-width enders end a sentence at once: CJK text puts no space after them. */
const FULL_WIDTH = new Set(['。', '！', '？']);
/** Closing marks that stay with the sentence they close: '"네."', '(좋아요!)'. */
const CLOSERS = new Set(['"', "'", '”', '’', ')', ']', '}', '」', '』', '»']);
/** A sentence longer than this (code units) is cut at its last space or comma: one provider request must stay small (Google: 5000 bytes, Hangul 3 bytes each). */
export const MAX_SENTENCE_CHARS = 1_500;

/**
 * Incremental sentence splitter. `push` takes the next piece and returns the sentences it
 * completed, in order; `flush` returns what is left once the text ended. Sentences are trimmed;
 * blank ones are dropped. '3.5' and '...' inside a word do not end a sentence.
 */
export class SentenceSplitter {
  private buf = '';

  push(piece: string): string[] {
    this.buf += piece;
    const out: string[] = [];
    let start = 0;
    let i = 0;
    while (i < this.buf.length) {
      const ch = this.buf[i]!;
      if (ch === '\n' || FULL_WIDTH.has(ch) || ENDERS.has(ch)) {
        let end = i + 1;
        while (end < this.buf.length && (ENDERS.has(this.buf[end]!) || FULL_WIDTH.has(this.buf[end]!) || CLOSERS.has(this.buf[end]!))) end++;
        // A Latin ender needs the next character to know it ends the sentence; wait for it.
        if (ch !== '\n' && !FULL_WIDTH.has(ch) && end >= this.buf.length) break;
        if (ch === '\n' || FULL_WIDTH.has(ch) || /\s/.test(this.buf[end]!)) {
          keep(out, this.buf.slice(start, end));
          start = end;
        }
        i = end;
        continue;
      }
      if (i - start >= MAX_SENTENCE_CHARS) {
        const head = this.buf.slice(start, i);
        const cut = Math.max(head.lastIndexOf(' '), head.lastIndexOf(','), head.lastIndexOf('，'));
        const at = cut > 0 ? start + cut + 1 : i;
        keep(out, this.buf.slice(start, at));
        start = at;
      }
      i++;
    }
    this.buf = this.buf.slice(start);
    return out;
  }

  /** The rest of the text, once it ended (undefined when nothing but whitespace is left). */
  flush(): string | undefined {
    const rest = this.buf.trim();
    this.buf = '';
    return rest.length > 0 ? rest : undefined;
  }
}

function keep(out: string[], sentence: string): void {
  const s = sentence.trim();
  if (s.length > 0) out.push(s);
}

/** Every sentence of a whole text, in order. */
export function splitSentences(text: string): string[] {
  const s = new SentenceSplitter();
  const out = s.push(text);
  const rest = s.flush();
  if (rest !== undefined) out.push(rest);
  return out;
}
