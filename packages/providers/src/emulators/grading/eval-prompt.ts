// The grading request as the core writes it (evalSystemInstruction / evalUserPrompt): the pass
// mark in the system instruction, the task, expected answer, speech level, learner level and
// the learner's answer (between <<< and >>>) in the user turn.

import type { Formality } from '@korean-together/core';

/** Pass mark used when the system instruction states none. */
export const DEFAULT_PASS_MARK = 70;

export interface ParsedEvalPrompt {
  task?: string;
  expectedAnswer?: string;
  targetFormality?: Formality;
  level?: string;
  /** Undefined when the text has no <<< >>> markers. */
  learnerAnswer?: string;
}

// Korean names first: the core's labels also mention endings of other levels in passing.
const FORMALITY_BY_LABEL: [RegExp, Formality][] = [
  [/합쇼체/, 'hapsyo'],
  [/해요체/, 'haeyo'],
  [/반말/, 'banmal'],
  [/hapsyo|\bformal polite/i, 'hapsyo'],
  [/haeyo|informal polite/i, 'haeyo'],
  [/banmal|\bplain\b/i, 'banmal'],
];

/** Reads the fields evalUserPrompt writes (one per line, learner answer between <<< and >>>). */
export function parseEvalPrompt(text: string): ParsedEvalPrompt {
  const out: ParsedEvalPrompt = {};
  const field = (label: string) => new RegExp(`^${label}:[ \\t]*(.*)$`, 'm').exec(text)?.[1]?.trim();
  const task = field('Task given to the learner');
  if (task) out.task = task;
  const expected = field('Expected answer');
  if (expected) out.expectedAnswer = expected;
  const level = field('Learner level');
  if (level) out.level = level;
  const speech = field('Required speech level');
  if (speech) {
    const hit = FORMALITY_BY_LABEL.find(([re]) => re.test(speech));
    if (hit) out.targetFormality = hit[1];
  }
  const start = text.indexOf('\n<<<\n');
  const end = text.lastIndexOf('\n>>>');
  if (start >= 0 && end >= start + 4) out.learnerAnswer = text.slice(start + 5, end);
  else if (start >= 0 && end === start + 4) out.learnerAnswer = '';
  return out;
}

/** The pass mark from the system instruction's "score >= N", or DEFAULT_PASS_MARK. */
export function parsePassMark(systemInstruction: string | undefined): number {
  const m = /score\s*>=\s*(\d{1,3})/.exec(systemInstruction ?? '');
  const n = m ? Number(m[1]) : NaN;
  return Number.isInteger(n) && n >= 0 && n <= 100 ? n : DEFAULT_PASS_MARK;
}
