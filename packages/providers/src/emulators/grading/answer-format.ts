// The grader's answer in the shape the core checks (checkEvalOutput): the score from the
// penalties, pass/fail against the pass mark, the primary error type, the errors, one fixed
// suggestion per error type found, and a rationale, every text within the core's limits.

import type { ErrorType, Formality } from '@korean-together/core';
import type { EvalOutput } from '@korean-together/core/provider-kit';
import { FORMALITY_NAMES } from './formality.js';
import { clip } from './korean-text.js';
import type { Finding } from './review.js';

/** What the answer says about the request it grades. */
export interface GradedRequest {
  passMark: number;
  expectedAnswer?: string;
  targetFormality?: Formality;
}

const SUGGESTIONS: Record<ErrorType, string> = {
  formality: 'Practise the requested speech level: 합쇼체 -습니다 / -ㅂ니다, 해요체 -아요 / -어요, 반말 -아 / -어.',
  grammar: 'Check each particle against the last syllable: a final consonant takes 은 / 이 / 을 / 과 / 으로, a vowel takes 는 / 가 / 를 / 와 / 로.',
  vocabulary: 'Compare your words with the model answer and learn the ones you missed.',
  pronunciation: 'Record the answer again slowly and clearly, reading the sentence you wrote.',
};
/** Error types in report order, which also breaks ties for the primary type. */
const TYPE_ORDER: ErrorType[] = ['formality', 'grammar', 'vocabulary', 'pronunciation'];

/** The error type with the largest total penalty (ties by TYPE_ORDER), or null with none. */
function primaryType(penaltyByType: Map<ErrorType, number>): ErrorType | null {
  let primary: ErrorType | null = null;
  for (const t of TYPE_ORDER) if (penaltyByType.has(t) && (primary === null || penaltyByType.get(t)! > penaltyByType.get(primary)!)) primary = t;
  return primary;
}

function summaryOf(request: GradedRequest, penaltyByType: Map<ErrorType, number>): string {
  const types = TYPE_ORDER.filter((t) => penaltyByType.has(t));
  if (types.length) return types.map((t) => `${t} -${penaltyByType.get(t)}`).join(', ');
  if (!request.expectedAnswer) return 'no mistakes found in speech level or particles';
  return 'the answer matches the expected answer' + (request.targetFormality ? ` in ${FORMALITY_NAMES[request.targetFormality]}` : '');
}

/** The answer for `findings`; `why` replaces the summary in the rationale (for answers not graded by the rules). */
export function formatEvalOutput(request: GradedRequest, findings: Finding[], why?: string): EvalOutput {
  const score = Math.max(0, Math.min(100, 100 - findings.reduce((s, f) => s + f.penalty, 0)));
  const penaltyByType = new Map<ErrorType, number>();
  for (const f of findings) penaltyByType.set(f.type, (penaltyByType.get(f.type) ?? 0) + f.penalty);
  const types = TYPE_ORDER.filter((t) => penaltyByType.has(t));
  const passFail = score >= request.passMark;
  return {
    score,
    passFail,
    primaryErrorType: primaryType(penaltyByType),
    errors: findings.slice(0, 20).map((f) => ({
      type: f.type,
      message: clip(f.message, 500),
      ...(f.span !== undefined && { span: clip(f.span, 200) }),
      ...(f.correction !== undefined && { correction: clip(f.correction, 200) }),
    })),
    suggestions: types.length ? types.map((t) => SUGGESTIONS[t]) : ['Well done. Try a longer answer or a different speech level next.'],
    rationale: clip(`Score ${score}/100 (pass mark ${request.passMark}, ${passFail ? 'pass' : 'fail'}): ${why ?? summaryOf(request, penaltyByType)}.`, 2000),
  };
}
