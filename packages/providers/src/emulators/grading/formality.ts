// The speech-level rule: each sentence's level from its final word (합쇼체, 해요체 or 반말),
// compared with the level the task asks for, and the common endings converted between levels
// for a correction when the expected answer does not give one.

import type { Formality } from '@korean-together/core';
import { FINAL_BIEUP, finalIndex, isHangulSyllable, medialIndex } from '../hangul.js';
import { chars, lastChar, sentences, words } from './korean-text.js';
import { correctWord, PENALTIES, type Review } from './review.js';

export const FORMALITY_NAMES: Record<Formality, string> = { hapsyo: '합쇼체', haeyo: '해요체', banmal: '반말' };

/**
 * The speech level of a sentence from its final word: 합쇼체 for -습니다/-ㅂ니다/-습니까/-ㅂ니까/
 * -(으)십시오/-(읍)ㅂ시다; 해요체 for a final -요 or -죠; otherwise 반말 (plain). Undefined
 * when the sentence has no Hangul to judge.
 */
export function detectFormality(sentence: string): Formality | undefined {
  const w = words(sentence).at(-1);
  if (!w || !chars(w).some(isHangulSyllable)) return undefined;
  const c = chars(w);
  const tail2 = c.slice(-2).join('');
  const before = c[c.length - 3];
  if (/(?:니다|니까|시다|시오)$/u.test(w) && before !== undefined && (before === '습' || before === '읍' || finalIndex(before) === FINAL_BIEUP)) {
    return 'hapsyo';
  }
  if (tail2.endsWith('요') || tail2.endsWith('죠')) return 'haeyo';
  return 'banmal';
}

/** True when a word ends in the -아/-어 form of a verb (last syllable open, vowel ㅏ ㅐ ㅓ ㅕ ㅘ ㅝ ㅙ). */
function endsInAEo(word: string): boolean {
  const last = lastChar(word);
  return finalIndex(last) === 0 && [0, 1, 4, 6, 9, 10, 14].includes(medialIndex(last)!);
}

/** The copula's form after `stem`: `consonant` after a final consonant, `vowel` after a vowel. */
const copula = (stem: string, consonant: string, vowel: string): string => stem + (finalIndex(lastChar(stem)) ? consonant : vowel);

/** An ending and what the word becomes, from the stem before the ending (and the whole word). */
type EndingRule = [RegExp, (stem: string, word: string) => string | undefined];

/** Endings converted into each level, tried in order; the first ending that matches decides. */
const ENDING_RULES: Record<Formality, EndingRule[]> = {
  hapsyo: [
    [/해요?$/u, (stem) => `${stem}합니다`],
    [/(?:이에요|이야)$/u, (stem) => `${stem}입니다`],
    [/(?:예요|야)$/u, (stem) => `${stem}입니다`],
    [/있어요?$/u, (stem) => `${stem}있습니다`],
    [/없어요?$/u, (stem) => `${stem}없습니다`],
  ],
  haeyo: [
    [/합니다$/u, (stem) => `${stem}해요`],
    [/입니다$/u, (stem) => copula(stem, '이에요', '예요')],
    [/있습니다$/u, (stem) => `${stem}있어요`],
    [/없습니다$/u, (stem) => `${stem}없어요`],
    [/이야$/u, (stem) => `${stem}이에요`],
    [/야$/u, (stem) => `${stem}예요`],
    [/지$/u, (stem) => `${stem}죠`],
    [/.$/u, (_stem, word) => (endsInAEo(word) ? `${word}요` : undefined)],
  ],
  banmal: [
    [/합니다$/u, (stem) => `${stem}해`],
    [/입니다$/u, (stem) => copula(stem, '이야', '야')],
    [/있습니다$/u, (stem) => `${stem}있어`],
    [/없습니다$/u, (stem) => `${stem}없어`],
    [/이에요$/u, (stem) => `${stem}이야`],
    [/예요$/u, (stem) => `${stem}야`],
    [/죠$/u, (stem) => `${stem}지`],
    [/요$/u, (stem) => stem || undefined],
  ],
};

/** The same word in another speech level, for common endings; undefined when no simple rule fits. */
export function convertEnding(word: string, to: Formality): string | undefined {
  const from = detectFormality(word);
  if (!from || from === to) return undefined;
  for (const [re, convert] of ENDING_RULES[to]) {
    const m = re.exec(word);
    if (m) return convert(word.slice(0, word.length - m[0].length), word);
  }
  return undefined;
}

function formalityMessage(found: Formality, target: Formality): string {
  const how: Record<Formality, string> = {
    hapsyo: 'end the sentence with -습니다 / -ㅂ니다 (questions: -습니까 / -ㅂ니까)',
    haeyo: 'end the sentence with -요 (-아요 / -어요, -이에요 / -예요)',
    banmal: 'drop the polite endings (-요, -습니다) and use the plain form (-아 / -어, -야, -다)',
  };
  return `This sentence is in ${FORMALITY_NAMES[found]} but ${FORMALITY_NAMES[target]} was asked: ${how[target]}.`;
}

/**
 * The final word of the expected sentence matching learner sentence `i` of `count`, when that
 * sentence is in the `target` level: the same position when both have as many sentences, else
 * the expected answer's last sentence for the learner's last.
 */
function expectedEnding(expectedSentences: string[], i: number, count: number, target: Formality): string | undefined {
  const counterpart = expectedSentences.length === count ? expectedSentences[i] : i === count - 1 ? expectedSentences.at(-1) : undefined;
  return counterpart && detectFormality(counterpart) === target ? words(counterpart).at(-1) : undefined;
}

/** Rule 1: every sentence in another level than `target` is a formality error on its final word (penalised once). */
export function checkFormality(review: Review, target: Formality): void {
  const learnerSentences = sentences(review.answer);
  const expectedSentences = review.expected ? sentences(review.expected) : [];
  let wordBase = 0;
  let penalised = false;
  learnerSentences.forEach((sentence, i) => {
    const sentenceWords = words(sentence);
    const lastIndex = wordBase + sentenceWords.length - 1;
    wordBase += sentenceWords.length;
    const found = detectFormality(sentence);
    if (!found || found === target) return;
    const expectedLast = expectedEnding(expectedSentences, i, learnerSentences.length, target);
    const span = sentenceWords.at(-1)!;
    const correction = expectedLast ?? convertEnding(span, target);
    correctWord(review, lastIndex, {
      type: 'formality',
      message: formalityMessage(found, target),
      span,
      ...(correction !== undefined && { correction }),
      penalty: penalised ? 0 : PENALTIES.formality,
    });
    penalised = true;
    if (expectedLast !== undefined) {
      const at = review.expectedWords.lastIndexOf(expectedLast);
      if (at >= 0) review.consumedExpected.add(at);
    }
  });
}
