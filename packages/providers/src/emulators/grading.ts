// The emulators' grader (Gemini and OpenAI chat): simple, documented, deterministic Korean
// rules (EMULATORS.md, "Grading rules"), applied in order to one answer under review. It reads
// the prompt the core builds with evalSystemInstruction / evalUserPrompt and returns JSON
// that passes checkEvalOutput. Each rule lives in grading/, in a file named after it.

import type { EvalOutput } from '@korean-together/core/provider-kit';
import { formatEvalOutput } from './grading/answer-format.js';
import type { ParsedEvalPrompt } from './grading/eval-prompt.js';
import { checkFormality } from './grading/formality.js';
import { normalizeKorean } from './grading/korean-text.js';
import { checkParticlesAgainstExpected, checkParticleSounds } from './grading/particles.js';
import { checkRecording } from './grading/pronunciation.js';
import { startReview } from './grading/review.js';
import { checkWording } from './grading/vocabulary.js';

export { parseEvalPrompt, parsePassMark, DEFAULT_PASS_MARK } from './grading/eval-prompt.js';
export type { ParsedEvalPrompt } from './grading/eval-prompt.js';
export { detectFormality, convertEnding } from './grading/formality.js';
export { normalizeKorean } from './grading/korean-text.js';
export { PENALTIES } from './grading/review.js';
export { similarity } from './grading/vocabulary.js';

export interface GradeInput extends ParsedEvalPrompt {
  passMark: number;
  /**
   * What attached learner audio says (its embedded transcript, '' when it carries none), or
   * undefined when no audio was attached.
   */
  heardAudio?: string;
}

/** Grades one learner answer by the documented rules; the result passes checkEvalOutput(out, passMark). */
export function gradeAnswer(input: GradeInput): EvalOutput {
  if (input.learnerAnswer === undefined) {
    return formatEvalOutput(input, [{ type: 'vocabulary', message: 'No learner answer was found between the <<< and >>> markers.', penalty: 100 }], 'no answer to grade');
  }
  const review = startReview(input.learnerAnswer, input.expectedAnswer);
  if (!normalizeKorean(review.answer)) {
    return formatEvalOutput(input, [{ type: 'vocabulary', message: 'The answer is empty.', penalty: 100 }], 'the answer is empty');
  }
  if (input.targetFormality) checkFormality(review, input.targetFormality);
  checkParticlesAgainstExpected(review);
  checkParticleSounds(review);
  checkWording(review);
  if (input.heardAudio !== undefined) checkRecording(review, input.heardAudio);
  return formatEvalOutput(input, review.findings);
}
