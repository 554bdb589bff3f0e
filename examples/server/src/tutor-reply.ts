import type { EvalResult, Formality } from '@korean-together/core';

const SPEECH_LEVEL: Record<Formality, string> = { hapsyo: '합쇼체', haeyo: '해요체', banmal: '반말' };

/**
 * What the tutor says after a graded answer, in Korean: praise with the score when it passed,
 * otherwise a hint for the main mistake and the model answer to repeat.
 */
export function tutorReply(evaluation: EvalResult, context: { expectedAnswer?: string; targetFormality?: Formality } = {}): string {
  const fix = evaluation.errors.find((e) => e.correction && e.span);
  const hint = fix ? `'${fix.span}' 대신 '${fix.correction}'${quoteParticle(fix.correction!)} 해 보세요.` : '';
  const model = context.expectedAnswer ? `따라 해 보세요: ${context.expectedAnswer}` : '';
  if (evaluation.passFail) {
    return [evaluation.errors.length === 0 ? `잘했어요! ${evaluation.score}점이에요.` : `좋아요! ${evaluation.score}점이에요.`, hint].filter(Boolean).join(' ');
  }
  const opener =
    evaluation.primaryErrorType === 'formality' && context.targetFormality
      ? `말투를 ${SPEECH_LEVEL[context.targetFormality]}로 바꿔 볼까요?`
      : evaluation.primaryErrorType === 'formality'
        ? '말투를 다시 확인해 볼까요?'
        : '아깝네요. 다시 해 볼까요?';
  return [opener, hint, model].filter(Boolean).join(' ');
}

/** 라고 after a vowel, 이라고 after a final consonant (받침); 라고 after anything not Hangul. */
function quoteParticle(word: string): string {
  const last = word.trim().codePointAt(word.trim().length - 1) ?? 0;
  const hasFinal = last >= 0xac00 && last <= 0xd7a3 && (last - 0xac00) % 28 !== 0;
  return hasFinal ? '이라고' : '라고';
}

/** Said when the learner's audio held no recognisable speech. */
export const DID_NOT_HEAR = '잘 안 들렸어요. 다시 한 번 말해 주세요.';
