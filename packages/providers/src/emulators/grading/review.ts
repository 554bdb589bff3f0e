// One answer under review: its words and the expected answer's, the findings the rules add,
// and which words a rule has already judged (and how they read corrected), so a later rule
// neither judges a word twice nor counts a corrected mistake again.

import type { ErrorType } from '@korean-together/core';
import { words } from './korean-text.js';

/** Points taken off per mistake. */
export const PENALTIES = {
  /** Any sentence in the wrong speech level (once per answer). */
  formality: 35,
  /** Each wrong particle (은/는, 이/가, 을/를, 와/과, 으로/로 ...). */
  particle: 15,
  /** Each particle the expected answer has and the learner left out. */
  missingParticle: 10,
  /** Same words as the expected answer, in another order. */
  wordOrder: 10,
  /** Wording that differs from the expected answer: at least this ... */
  vocabularyMin: 10,
  /** ... and at most this, scaled by how different it is. */
  vocabularyMax: 70,
  /** Attached audio that is unintelligible or says something else. */
  pronunciation: 20,
} as const;

/** One mistake and the points it costs. */
export interface Finding {
  type: ErrorType;
  message: string;
  span?: string;
  correction?: string;
  penalty: number;
}

export interface Review {
  /** The learner's answer, NFC and trimmed. */
  answer: string;
  /** The expected answer, NFC and trimmed; undefined when there is none (or it is blank). */
  expected: string | undefined;
  learnerWords: string[];
  expectedWords: string[];
  expectedWordSet: Set<string>;
  findings: Finding[];
  /** Learner word index -> its correction, for the repaired answer. */
  repairs: Map<number, string>;
  /** Learner word indexes a rule has judged. */
  flagged: Set<number>;
  /** Expected word indexes a correction has used. */
  consumedExpected: Set<number>;
}

export function startReview(learnerAnswer: string, expectedAnswer: string | undefined): Review {
  const answer = learnerAnswer.normalize('NFC').trim();
  const expected = expectedAnswer?.normalize('NFC').trim() || undefined;
  const expectedWords = expected ? words(expected) : [];
  return {
    answer,
    expected,
    learnerWords: words(answer),
    expectedWords,
    expectedWordSet: new Set(expectedWords),
    findings: [],
    repairs: new Map(),
    flagged: new Set(),
    consumedExpected: new Set(),
  };
}

/** Records a finding that corrects learner word `index` to `correction`. */
export function correctWord(review: Review, index: number, finding: Finding): void {
  review.findings.push(finding);
  review.flagged.add(index);
  if (finding.correction !== undefined) review.repairs.set(index, finding.correction);
}
