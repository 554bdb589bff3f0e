// The Gemini emulator's grader: simple, documented, deterministic Korean rules (see
// EMULATORS.md, "Grading rules"). It reads the prompt the core builds with
// evalSystemInstruction / evalUserPrompt and returns JSON that passes checkEvalOutput.

import type { ErrorType, EvalOutput, Formality } from '@korean-together/core';
import { FINAL_BIEUP, FINAL_RIEUL, finalIndex, isHangulSyllable, medialIndex } from './hangul.js';

/** Pass mark used when the system instruction states none. */
export const DEFAULT_PASS_MARK = 70;

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

// ---- text helpers -----------------------------------------------------------------------

/** Comparison form: NFC, lower case, letters and digits only (spacing and punctuation ignored). */
export function normalizeKorean(text: string): string {
  return text.normalize('NFC').toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
}

function words(text: string): string[] {
  return text
    .normalize('NFC')
    .split(/\s+/u)
    .map((w) => w.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''))
    .filter(Boolean);
}

function sentences(text: string): string[] {
  return text
    .normalize('NFC')
    .split(/(?<=[.!?。！？])\s+|\n+/u)
    .map((s) => s.trim())
    .filter((s) => /\p{L}/u.test(s));
}

function chars(s: string): string[] {
  return [...s];
}

function lastChar(s: string): string {
  const c = chars(s);
  return c[c.length - 1] ?? '';
}

function clip(s: string, max: number): string {
  const c = chars(s);
  return c.length > max ? `${c.slice(0, max - 1).join('')}…` : s;
}

// ---- speech level -----------------------------------------------------------------------

const FORMALITY_NAMES: Record<Formality, string> = { hapsyo: '합쇼체', haeyo: '해요체', banmal: '반말' };

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

/** The same word in another speech level, for common endings; undefined when no simple rule fits. */
export function convertEnding(word: string, to: Formality): string | undefined {
  const from = detectFormality(word);
  if (!from || from === to) return undefined;
  const stemBefore = (suffix: string) => word.slice(0, word.length - suffix.length);
  const copula = (stem: string, consonant: string, vowel: string) => {
    const last = lastChar(stem);
    return stem + (finalIndex(last) ? consonant : vowel);
  };
  const rules: [RegExp, (m: RegExpExecArray) => string | undefined][] =
    to === 'hapsyo'
      ? [
          [/해요?$/u, (m) => `${stemBefore(m[0])}합니다`],
          [/(?:이에요|이야)$/u, (m) => `${stemBefore(m[0])}입니다`],
          [/(?:예요|야)$/u, (m) => `${stemBefore(m[0])}입니다`],
          [/있어요?$/u, (m) => `${stemBefore(m[0])}있습니다`],
          [/없어요?$/u, (m) => `${stemBefore(m[0])}없습니다`],
        ]
      : to === 'haeyo'
        ? [
            [/합니다$/u, (m) => `${stemBefore(m[0])}해요`],
            [/입니다$/u, (m) => copula(stemBefore(m[0]), '이에요', '예요')],
            [/있습니다$/u, (m) => `${stemBefore(m[0])}있어요`],
            [/없습니다$/u, (m) => `${stemBefore(m[0])}없어요`],
            [/이야$/u, (m) => `${stemBefore(m[0])}이에요`],
            [/야$/u, (m) => `${stemBefore(m[0])}예요`],
            [/지$/u, (m) => `${stemBefore(m[0])}죠`],
            [/.$/u, () => (endsInAEo(word) ? `${word}요` : undefined)],
          ]
        : [
            [/합니다$/u, (m) => `${stemBefore(m[0])}해`],
            [/입니다$/u, (m) => copula(stemBefore(m[0]), '이야', '야')],
            [/있습니다$/u, (m) => `${stemBefore(m[0])}있어`],
            [/없습니다$/u, (m) => `${stemBefore(m[0])}없어`],
            [/이에요$/u, (m) => `${stemBefore(m[0])}이야`],
            [/예요$/u, (m) => `${stemBefore(m[0])}야`],
            [/죠$/u, (m) => `${stemBefore(m[0])}지`],
            [/요$/u, (m) => (stemBefore(m[0]) ? stemBefore(m[0]) : undefined)],
          ];
  for (const [re, f] of rules) {
    const m = re.exec(word);
    if (m) return f(m);
  }
  return undefined;
}

/** True when a word ends in the -아/-어 form of a verb (last syllable open, vowel ㅏ ㅐ ㅓ ㅕ ㅘ ㅝ ㅙ). */
function endsInAEo(word: string): boolean {
  const last = lastChar(word);
  return finalIndex(last) === 0 && [0, 1, 4, 6, 9, 10, 14].includes(medialIndex(last)!);
}

function formalityMessage(found: Formality, target: Formality): string {
  const how: Record<Formality, string> = {
    hapsyo: 'end the sentence with -습니다 / -ㅂ니다 (questions: -습니까 / -ㅂ니까)',
    haeyo: 'end the sentence with -요 (-아요 / -어요, -이에요 / -예요)',
    banmal: 'drop the polite endings (-요, -습니다) and use the plain form (-아 / -어, -야, -다)',
  };
  return `This sentence is in ${FORMALITY_NAMES[found]} but ${FORMALITY_NAMES[target]} was asked: ${how[target]}.`;
}

// ---- particles ----------------------------------------------------------------------------

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

/** The right form of a paired particle after `stem`, by its last syllable's final consonant. */
function particleFor(stem: string, pair: [string, string]): string {
  const f = finalIndex(lastChar(stem));
  if (f === undefined) return pair[1];
  if (pair[1] === '로') return f === 0 || f === FINAL_RIEUL ? '로' : '으로';
  return f === 0 ? pair[1] : pair[0];
}

/** Every (stem, particle) reading of a word, the whole word with no particle first. */
function splits(word: string): { stem: string; particle: string }[] {
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
  return `Particle form: '${last}' ends in ${kind}, so use ${right}, not ${used} (${PARTICLE_ROLE[right] ?? 'particle'} marker).`;
}

// ---- similarity ---------------------------------------------------------------------------

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

// ---- grading ------------------------------------------------------------------------------

export interface GradeInput extends ParsedEvalPrompt {
  passMark: number;
  /**
   * What attached learner audio says (its embedded transcript, '' when it carries none), or
   * undefined when no audio was attached.
   */
  heardAudio?: string;
}

interface Finding {
  type: ErrorType;
  message: string;
  span?: string;
  correction?: string;
  penalty: number;
}

const SUGGESTIONS: Record<ErrorType, string> = {
  formality: 'Practise the requested speech level: 합쇼체 -습니다 / -ㅂ니다, 해요체 -아요 / -어요, 반말 -아 / -어.',
  grammar: 'Check each particle against the last syllable: a final consonant takes 은 / 이 / 을 / 과 / 으로, a vowel takes 는 / 가 / 를 / 와 / 로.',
  vocabulary: 'Compare your words with the model answer and learn the ones you missed.',
  pronunciation: 'Record the answer again slowly and clearly, reading the sentence you wrote.',
};
const TYPE_ORDER: ErrorType[] = ['formality', 'grammar', 'vocabulary', 'pronunciation'];

/** Grades one learner answer by the documented rules; the result passes checkEvalOutput(out, passMark). */
export function gradeAnswer(input: GradeInput): EvalOutput {
  const answer = (input.learnerAnswer ?? '').normalize('NFC').trim();
  const findings: Finding[] = [];

  if (input.learnerAnswer === undefined) {
    return finish(input, [{ type: 'vocabulary', message: 'No learner answer was found between the <<< and >>> markers.', penalty: 100 }], 'no answer to grade');
  }
  if (!normalizeKorean(answer)) {
    return finish(input, [{ type: 'vocabulary', message: 'The answer is empty.', penalty: 100 }], 'the answer is empty');
  }

  const expected = input.expectedAnswer?.normalize('NFC').trim();
  const learnerWords = words(answer);
  const expectedWords = expected ? words(expected) : [];
  /** Learner word index -> its correction, for the repaired answer. */
  const repairs = new Map<number, string>();
  const flagged = new Set<number>();
  const consumedExpected = new Set<number>();

  // 1. Speech level, sentence by sentence.
  if (input.targetFormality) {
    const target = input.targetFormality;
    const ls = sentences(answer);
    const es = expected ? sentences(expected) : [];
    let wordBase = 0;
    let penalised = false;
    ls.forEach((sentence, i) => {
      const sw = words(sentence);
      const lastIdx = wordBase + sw.length - 1;
      wordBase += sw.length;
      const found = detectFormality(sentence);
      if (!found || found === target) return;
      const counterpart = es.length === ls.length ? es[i] : i === ls.length - 1 ? es.at(-1) : undefined;
      const expectedLast = counterpart && detectFormality(counterpart) === target ? words(counterpart).at(-1) : undefined;
      const span = sw.at(-1)!;
      const correction = expectedLast ?? convertEnding(span, target);
      findings.push({
        type: 'formality',
        message: formalityMessage(found, target),
        span,
        ...(correction !== undefined && { correction }),
        penalty: penalised ? 0 : PENALTIES.formality,
      });
      penalised = true;
      flagged.add(lastIdx);
      if (correction !== undefined) repairs.set(lastIdx, correction);
      if (expectedLast !== undefined) {
        const ei = expectedWords.lastIndexOf(expectedLast);
        if (ei >= 0) consumedExpected.add(ei);
      }
    });
  }

  // 2. Particles against the expected answer: same stem, different particle.
  const expectedSet = new Set(expectedWords);
  learnerWords.forEach((lw, li) => {
    if (flagged.has(li) || expectedSet.has(lw)) return;
    for (const ls of splits(lw)) {
      const match = expectedWords.findIndex(
        (ew, ei) => !consumedExpected.has(ei) && !learnerWords.includes(ew) && splits(ew).some((es) => es.stem === ls.stem && es.particle !== ls.particle),
      );
      if (match < 0) continue;
      const ew = expectedWords[match]!;
      const es = splits(ew).find((s) => s.stem === ls.stem)!;
      consumedExpected.add(match);
      flagged.add(li);
      repairs.set(li, ew);
      if (ls.particle === '') {
        findings.push({
          type: 'grammar',
          message: `Missing particle: '${ls.stem}' needs ${es.particle} (${PARTICLE_ROLE[es.particle] ?? 'particle'} marker) here.`,
          span: lw,
          correction: ew,
          penalty: PENALTIES.missingParticle,
        });
      } else if (es.particle !== '' && pairOf(ls.particle) && pairOf(ls.particle) === pairOf(es.particle)) {
        findings.push({ type: 'grammar', message: phonologyMessage(ls.stem, ls.particle, es.particle), span: lw, correction: ew, penalty: PENALTIES.particle });
      } else if (es.particle !== '') {
        findings.push({
          type: 'grammar',
          message: `Wrong particle: ${ls.particle} (${PARTICLE_ROLE[ls.particle] ?? 'particle'}) where ${es.particle} (${PARTICLE_ROLE[es.particle] ?? 'particle'} marker) is needed.`,
          span: lw,
          correction: ew,
          penalty: PENALTIES.particle,
        });
      } else {
        // The learner added a particle the expected answer does not have: leave it to the wording check.
        flagged.delete(li);
        repairs.delete(li);
        consumedExpected.delete(match);
        continue;
      }
      return;
    }
  });

  // 3. Particles by sound alone, where a wrong form is unambiguous.
  learnerWords.forEach((lw, li) => {
    if (flagged.has(li) || expectedSet.has(lw) || WORDS_ENDING_IN_EUL.has(lw)) return;
    for (const rule of STANDALONE) {
      if (!lw.endsWith(rule.particle) || lw.length <= rule.particle.length) continue;
      const stem = lw.slice(0, -rule.particle.length);
      const f = finalIndex(lastChar(stem));
      if (f === undefined || !rule.wrongWhen(f)) continue;
      const right = particleFor(stem, rule.pair);
      const correction = stem + right;
      findings.push({ type: 'grammar', message: phonologyMessage(stem, rule.particle, right), span: lw, correction, penalty: PENALTIES.particle });
      flagged.add(li);
      repairs.set(li, correction);
      return;
    }
  });

  // 4. Wording and word order against the expected answer, after the repairs above.
  if (expected) {
    const repairedWords = learnerWords.map((w, i) => repairs.get(i) ?? w);
    const repaired = normalizeKorean(repairedWords.join(' '));
    const target = normalizeKorean(expected);
    if (repaired !== target) {
      const sortedA = repairedWords.map(normalizeKorean).sort().join(' ');
      const sortedB = expectedWords.map(normalizeKorean).sort().join(' ');
      if (sortedA === sortedB) {
        findings.push({ type: 'grammar', message: 'Word order differs from the expected answer.', correction: clip(expected, 200), penalty: PENALTIES.wordOrder });
      } else {
        const penalty = Math.max(PENALTIES.vocabularyMin, Math.round((1 - similarity(repaired, target)) * PENALTIES.vocabularyMax));
        const stemsOf = (w: string) => splits(w).map((s) => s.stem);
        const learnerStems = new Set(repairedWords.flatMap(stemsOf));
        const missing = expectedWords.filter((ew) => !stemsOf(ew).some((s) => learnerStems.has(s)));
        const expectedStems = new Set(expectedWords.flatMap(stemsOf));
        const extra = repairedWords.filter((lw) => !stemsOf(lw).some((s) => expectedStems.has(s)));
        const items = missing.slice(0, 5).map((ew, i) => ({
          type: 'vocabulary' as const,
          message: extra[i] !== undefined ? `'${extra[i]}' is not the expected word here.` : `Missing word: the expected answer uses '${ew}'.`,
          ...(extra[i] !== undefined && { span: extra[i] }),
          correction: ew,
          penalty: 0,
        }));
        if (!items.length) items.push({ type: 'vocabulary', message: 'The wording differs from the expected answer.', correction: clip(expected, 200), penalty: 0 });
        items[0]!.penalty = penalty;
        findings.push(...items);
      }
    }
  }

  // 5. Attached audio: it must say what the learner wrote.
  if (input.heardAudio !== undefined) {
    if (!normalizeKorean(input.heardAudio)) {
      findings.push({ type: 'pronunciation', message: 'The recording could not be understood.', penalty: PENALTIES.pronunciation });
    } else if (normalizeKorean(input.heardAudio) !== normalizeKorean(answer)) {
      findings.push({
        type: 'pronunciation',
        message: 'The recording does not sound like the written answer.',
        span: input.heardAudio,
        correction: answer,
        penalty: PENALTIES.pronunciation,
      });
    }
  }

  return finish(input, findings);
}

function finish(input: GradeInput, findings: Finding[], why?: string): EvalOutput {
  const total = findings.reduce((s, f) => s + f.penalty, 0);
  const score = Math.max(0, Math.min(100, 100 - total));
  const byType = new Map<ErrorType, number>();
  for (const f of findings) byType.set(f.type, (byType.get(f.type) ?? 0) + f.penalty);
  let primary: ErrorType | null = null;
  for (const t of TYPE_ORDER) if (byType.has(t) && (primary === null || byType.get(t)! > byType.get(primary)!)) primary = t;
  const types = TYPE_ORDER.filter((t) => byType.has(t));
  const passFail = score >= input.passMark;
  const summary =
    why ??
    (findings.length === 0
      ? input.expectedAnswer
        ? 'the answer matches the expected answer' + (input.targetFormality ? ` in ${FORMALITY_NAMES[input.targetFormality]}` : '')
        : 'no mistakes found in speech level or particles'
      : types.map((t) => `${t} -${byType.get(t)}`).join(', '));
  return {
    score,
    passFail,
    primaryErrorType: primary,
    errors: findings.slice(0, 20).map((f) => ({
      type: f.type,
      message: clip(f.message, 500),
      ...(f.span !== undefined && { span: clip(f.span, 200) }),
      ...(f.correction !== undefined && { correction: clip(f.correction, 200) }),
    })),
    suggestions: types.length ? types.map((t) => SUGGESTIONS[t]) : ['Well done. Try a longer answer or a different speech level next.'],
    rationale: clip(`Score ${score}/100 (pass mark ${input.passMark}, ${passFail ? 'pass' : 'fail'}): ${summary}.`, 2000),
  };
}
