import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codePoints, splitText, TextTooLongError, utf8Bytes } from './text-split.js';

const SENTENCE = '오늘은 날씨가 정말 좋아서 친구와 함께 공원에 가서 산책을 했습니다. ';

describe('splitText', () => {
  it('returns short text unchanged, as one piece', () => {
    expect(splitText('안녕하세요.', 5000)).toEqual(['안녕하세요.']);
  });

  it('cuts long Korean text at sentence ends, every piece within the byte limit', () => {
    const text = SENTENCE.repeat(80); // about 8,000 bytes
    expect(utf8Bytes(text)).toBeGreaterThan(5000);
    const pieces = splitText(text, 5000);
    expect(pieces.length).toBe(2);
    expect(pieces.join('')).toBe(text);
    for (const p of pieces) {
      expect(utf8Bytes(p)).toBeLessThanOrEqual(5000);
      expect(p.trimEnd().endsWith('했습니다.')).toBe(true);
    }
  });

  it('uses Korean sentence endings when there is no punctuation', () => {
    const text = '저는 학생입니다 '.repeat(10) + '한국어를 공부해요 '.repeat(10);
    const pieces = splitText(text, 60);
    expect(pieces.join('')).toBe(text);
    for (const p of pieces) expect(/(니다|해요)\s*$/.test(p)).toBe(true);
  });

  it('falls back to commas, then spaces, inside a sentence that is too long', () => {
    const clause = '사과, 배, 포도, 바나나';
    const text = `${clause}, ${clause}, ${clause}`;
    const pieces = splitText(text, 40);
    expect(pieces.join('')).toBe(text);
    for (const p of pieces) expect(utf8Bytes(p)).toBeLessThanOrEqual(40);
    expect(pieces[0]!.trimEnd().endsWith(',')).toBe(true);
  });

  it('refuses a single word longer than the limit', () => {
    expect(() => splitText('가'.repeat(2000), 5000)).toThrow(TextTooLongError);
  });

  it('measures code points when asked', () => {
    const text = '가나다 '.repeat(10);
    const pieces = splitText(text, 8, codePoints);
    for (const p of pieces) expect(codePoints(p)).toBeLessThanOrEqual(8);
    expect(pieces.join('')).toBe(text);
  });

  it('always concatenates back to the input and respects the limit (property)', () => {
    const word = fc.stringMatching(/^[가-힣a-z]{1,12}$/);
    const sep = fc.constantFrom(' ', '. ', ', ', '\n', '! ', '요 ', '니다 ');
    const textArb = fc.array(fc.tuple(word, sep), { minLength: 1, maxLength: 120 }).map((xs) => xs.map(([w, s]) => w + s).join(''));
    fc.assert(
      fc.property(textArb, fc.integer({ min: 40, max: 400 }), (text, limit) => {
        const pieces = splitText(text, limit);
        expect(pieces.join('')).toBe(text);
        for (const p of pieces) expect(utf8Bytes(p)).toBeLessThanOrEqual(limit);
      }),
    );
  });
});
