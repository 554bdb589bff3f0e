// The pronunciation rule: attached audio must say what the learner wrote. The emulators "hear"
// audio through its embedded text (hearing.ts), so this compares two texts.

import { normalizeKorean } from './korean-text.js';
import { PENALTIES, type Review } from './review.js';

/** Rule 5: `heard` (the audio's transcript, '' when it carries none) against the written answer. */
export function checkRecording(review: Review, heard: string): void {
  const said = normalizeKorean(heard);
  if (!said) {
    review.findings.push({ type: 'pronunciation', message: 'The recording could not be understood.', penalty: PENALTIES.pronunciation });
  } else if (said !== normalizeKorean(review.answer)) {
    review.findings.push({
      type: 'pronunciation',
      message: 'The recording does not sound like the written answer.',
      span: heard,
      correction: review.answer,
      penalty: PENALTIES.pronunciation,
    });
  }
}
