// The particle rules: a learner word read as stem + particle against the expected answer's
// words (the wrong particle, the wrong form of the right one, a missing one), and, with or
// without an expected answer, the forms that are wrong by sound alone. The right form of a
// paired particle depends only on the stem's final consonant (Hangul syllable arithmetic).

import { FINAL_RIEUL, finalIndex, isHangulSyllable } from '../hangul.js';
import { lastChar } from './korean-text.js';
import { correctWord, PENALTIES, type Finding, type Review } from './review.js';

/** [after a final consonant, after a vowel] */
const PARTICLE_PAIRS: [string, string][] = [
  ['은', '는'],
  ['이', '가'],
  ['을', '를'],
  ['과', '와'],
  ['으로', '로'],
];
const OTHER_PARTICLES = ['에서', '에게', '한테', '까지', '부터', '께서', '처럼', '보다', '에', '도', '만', '의'];
const PARTICLES = [...PARTICLE_PAIRS.flat(), ...OTHER_PARTICLES].sort((a, b) => b.length - a.length);

const PARTICLE_ROLE: Record<string, string> = {
  은: 'topic', 는: 'topic', 이: 'subject', 가: 'subject', 을: 'object', 를: 'object', 과: '"and / with"', 와: '"and / with"',
  으로: 'direction / means', 로: 'direction / means', 에: 'place / time', 에서: 'place of action', 에게: 'recipient', 한테: 'recipient',
  도: '"also"', 만: '"only"', 의: 'possessive', 까지: '"until"', 부터: '"from"', 께서: 'honorific subject', 처럼: '"like"', 보다: '"than"',
};
const roleOf = (particle: string): string => PARTICLE_ROLE[particle] ?? 'particle';

/** The right form of a paired particle after `stem`, by its last syllable's final consonant. */
function particleFor(stem: string, pair: [string, string]): string {
  const f = finalIndex(lastChar(stem));
  if (f === undefined) return pair[1];
  if (pair[1] === '로') return f === 0 || f === FINAL_RIEUL ? '로' : '으로';
  return f === 0 ? pair[1] : pair[0];
}

/** Every (stem, particle) reading of a word, the whole word with no particle first. */
export function splits(word: string): { stem: string; particle: string }[] {
  const out = [{ stem: word, particle: '' }];
  for (const p of PARTICLES) {
    if (word.endsWith(p) && word.length > p.length && isHangulSyllable(lastChar(word.slice(0, -p.length)))) {
      out.push({ stem: word.slice(0, -p.length), particle: p });
    }
  }
  return out;
}

function pairOf(particle: string): [string, string] | undefined {
  return PARTICLE_PAIRS.find((p) => p.includes(particle));
}

/**
 * Particles checked without an expected answer, only where a wrong form is unambiguous:
 * 를 after a consonant, 을 after a vowel (except nouns that end in 을: 가을, 마을 ...),
 * 은 after a vowel, 와 after a consonant, 으로 after a vowel or ㄹ. (는 after a consonant,
 * 이/가 and 과 are skipped: 먹는, 아이, 작가, 사과 are correct words that look like mistakes.)
 */
const STANDALONE: { particle: string; wrongWhen: (final: number) => boolean; pair: [string, string] }[] = [
  { particle: '를', wrongWhen: (f) => f !== 0, pair: ['을', '를'] },
  { particle: '을', wrongWhen: (f) => f === 0, pair: ['을', '를'] },
  { particle: '은', wrongWhen: (f) => f === 0, pair: ['은', '는'] },
  { particle: '와', wrongWhen: (f) => f !== 0, pair: ['과', '와'] },
  { particle: '으로', wrongWhen: (f) => f === 0 || f === FINAL_RIEUL, pair: ['으로', '로'] },
];
const WORDS_ENDING_IN_EUL = new Set(['가을', '마을', '노을', '고을', '저녁노을', '시골마을']);

function phonologyMessage(stem: string, used: string, right: string): string {
  const last = lastChar(stem);
  const kind = finalIndex(last) === 0 ? 'a vowel' : finalIndex(last) === FINAL_RIEUL && right === '로' ? 'ㄹ' : 'a final consonant';
  return `Particle form: '${last}' ends in ${kind}, so use ${right}, not ${used} (${roleOf(right)} marker).`;
}

/**
 * The grammar finding for learner word `word` (stem + `used`) where the expected answer has
 * `expected` (the same stem + `right`); undefined when the learner added a particle the
 * expected answer lacks, which the wording rule judges instead.
 */
function particleMismatch(word: string, expected: string, stem: string, used: string, right: string): Finding | undefined {
  if (right === '') return undefined;
  const base = { type: 'grammar' as const, span: word, correction: expected };
  if (used === '') return { ...base, message: `Missing particle: '${stem}' needs ${right} (${roleOf(right)} marker) here.`, penalty: PENALTIES.missingParticle };
  if (pairOf(used) && pairOf(used) === pairOf(right)) return { ...base, message: phonologyMessage(stem, used, right), penalty: PENALTIES.particle };
  return { ...base, message: `Wrong particle: ${used} (${roleOf(used)}) where ${right} (${roleOf(right)} marker) is needed.`, penalty: PENALTIES.particle };
}

/** Rule 2: a learner word with the stem of an unused expected word but another particle. */
export function checkParticlesAgainstExpected(review: Review): void {
  const { learnerWords, expectedWords, consumedExpected } = review;
  learnerWords.forEach((word, index) => {
    if (review.flagged.has(index) || review.expectedWordSet.has(word)) return;
    for (const { stem, particle } of splits(word)) {
      const match = expectedWords.findIndex(
        (ew, ei) => !consumedExpected.has(ei) && !learnerWords.includes(ew) && splits(ew).some((es) => es.stem === stem && es.particle !== particle),
      );
      if (match < 0) continue;
      const expected = expectedWords[match]!;
      const right = splits(expected).find((s) => s.stem === stem)!.particle;
      const finding = particleMismatch(word, expected, stem, particle, right);
      if (!finding) continue;
      consumedExpected.add(match);
      correctWord(review, index, finding);
      return;
    }
  });
}

/** Rule 3: particle forms wrong by sound alone, for words not already judged or expected. */
export function checkParticleSounds(review: Review): void {
  review.learnerWords.forEach((word, index) => {
    if (review.flagged.has(index) || review.expectedWordSet.has(word) || WORDS_ENDING_IN_EUL.has(word)) return;
    for (const rule of STANDALONE) {
      if (!word.endsWith(rule.particle) || word.length <= rule.particle.length) continue;
      const stem = word.slice(0, -rule.particle.length);
      const f = finalIndex(lastChar(stem));
      if (f === undefined || !rule.wrongWhen(f)) continue;
      const right = particleFor(stem, rule.pair);
      correctWord(review, index, { type: 'grammar', message: phonologyMessage(stem, rule.particle, right), span: word, correction: stem + right, penalty: PENALTIES.particle });
      return;
    }
  });
}
