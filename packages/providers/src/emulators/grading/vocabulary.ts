// The wording rule: the learner's answer, with the corrections of the earlier rules applied,
// against the expected answer: the same words in another order, or other words, scored by how
// much of the expected answer's syllable bigrams it shares.

import { chars, clip, normalizeKorean } from './korean-text.js';
import { splits } from './particles.js';
import { PENALTIES, type Finding, type Review } from './review.js';

/** Dice coefficient of syllable bigrams (unigrams for one-syllable strings): 1 = same, 0 = nothing shared. */
export function similarity(a: string, b: string): number {
  if (a === b) return 1;
  const grams = (s: string) => {
    const c = chars(s);
    if (c.length < 2) return c;
    return c.slice(1).map((ch, i) => c[i]! + ch);
  };
  const ga = grams(a);
  const gb = grams(b);
  if (!ga.length || !gb.length) return 0;
  const counts = new Map<string, number>();
  for (const g of ga) counts.set(g, (counts.get(g) ?? 0) + 1);
  let shared = 0;
  for (const g of gb) {
    const n = counts.get(g) ?? 0;
    if (n > 0) {
      shared++;
      counts.set(g, n - 1);
    }
  }
  return (2 * shared) / (ga.length + gb.length);
}

const stemsOf = (word: string): string[] => splits(word).map((s) => s.stem);

/**
 * Vocabulary findings: each expected word whose stem the learner never used (up to five),
 * paired with the learner's unexpected words as span; the whole `penalty` on the first.
 */
function wordingFindings(learnerWords: string[], expectedWords: string[], expected: string, penalty: number): Finding[] {
  const learnerStems = new Set(learnerWords.flatMap(stemsOf));
  const missing = expectedWords.filter((ew) => !stemsOf(ew).some((s) => learnerStems.has(s)));
  const expectedStems = new Set(expectedWords.flatMap(stemsOf));
  const extra = learnerWords.filter((lw) => !stemsOf(lw).some((s) => expectedStems.has(s)));
  const items: Finding[] = missing.slice(0, 5).map((ew, i) => ({
    type: 'vocabulary',
    message: extra[i] !== undefined ? `'${extra[i]}' is not the expected word here.` : `Missing word: the expected answer uses '${ew}'.`,
    ...(extra[i] !== undefined && { span: extra[i] }),
    correction: ew,
    penalty: 0,
  }));
  if (!items.length) items.push({ type: 'vocabulary', message: 'The wording differs from the expected answer.', correction: clip(expected, 200), penalty: 0 });
  items[0]!.penalty = penalty;
  return items;
}

/** Rule 4: wording and word order against the expected answer, after the earlier corrections. */
export function checkWording(review: Review): void {
  const { expected, expectedWords } = review;
  if (!expected) return;
  const repairedWords = review.learnerWords.map((w, i) => review.repairs.get(i) ?? w);
  const repaired = normalizeKorean(repairedWords.join(' '));
  const target = normalizeKorean(expected);
  if (repaired === target) return;
  const sorted = (ws: string[]) => ws.map(normalizeKorean).sort().join(' ');
  if (sorted(repairedWords) === sorted(expectedWords)) {
    review.findings.push({ type: 'grammar', message: 'Word order differs from the expected answer.', correction: clip(expected, 200), penalty: PENALTIES.wordOrder });
    return;
  }
  const penalty = Math.max(PENALTIES.vocabularyMin, Math.round((1 - similarity(repaired, target)) * PENALTIES.vocabularyMax));
  review.findings.push(...wordingFindings(repairedWords, expectedWords, expected, penalty));
}
