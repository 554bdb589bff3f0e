import { describe, expect, it } from 'vitest';
import { MAX_SENTENCE_CHARS, SentenceSplitter, splitSentences } from './sentence-split.js';

describe('sentence splitting', () => {
  it('splits Korean and Latin text at . ! ? … and newlines, keeping closing quotes', () => {
    expect(splitSentences('안녕하세요. 만나서 반가워요! 이름이 뭐예요? "네." 좋아요…\n다음 문장')).toEqual(['안녕하세요.', '만나서 반가워요!', '이름이 뭐예요?', '"네."', '좋아요…', '다음 문장']);
    expect(splitSentences('Hello there. How are you?! Fine.')).toEqual(['Hello there.', 'How are you?!', 'Fine.']);
  });

  it('does not split inside numbers or at an ender with no space after it', () => {
    expect(splitSentences('It costs 3.5 dollars. Ok')).toEqual(['It costs 3.5 dollars.', 'Ok']);
    expect(splitSentences('see example.com now.')).toEqual(['see example.com now.']);
  });

  it('full-width enders end a sentence without a space', () => {
    expect(splitSentences('你好。再见！')).toEqual(['你好。', '再见！']);
  });

  it('emits a sentence as soon as the piece after its ender arrives, in order, across any piece boundaries', () => {
    const s = new SentenceSplitter();
    expect(s.push('안녕')).toEqual([]);
    expect(s.push('하세요.')).toEqual([]); // the ender might be '...' or '3.5': wait for the next character
    expect(s.push(' 오늘')).toEqual(['안녕하세요.']);
    expect(s.push('은 날씨가 좋아요! 산')).toEqual(['오늘은 날씨가 좋아요!']);
    expect(s.push('책 갈까요?')).toEqual([]);
    expect(s.flush()).toBe('산책 갈까요?');
    expect(s.flush()).toBeUndefined();
  });

  it('cuts an over-long sentence at its last space', () => {
    const word = '가나다라마 ';
    const long = word.repeat(Math.ceil((MAX_SENTENCE_CHARS * 1.5) / word.length));
    const parts = splitSentences(long);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(MAX_SENTENCE_CHARS);
    expect(parts.join(' ')).toBe(long.trim());
  });
});
