import type { Formality } from '@korean-together/core';
import type { FaultRule } from '@korean-together/providers/emulators';

/** One activity of the scripted lesson: what the tutor asks, what the learner answers, what breaks on the way. */
export interface Activity {
  /** Short English title for progress lines and the summary. */
  title: string;
  /** The task the tutor speaks. */
  prompt: string;
  expectedAnswer: string;
  targetFormality: Formality;
  /** What the (scripted) learner says; spoken as fabricated audio and transcribed. */
  learnerAnswer: string;
  /** What the learner gets wrong, for the lesson view. */
  mistake?: string;
  /** Faults injected into the emulators for this activity only (skipped with --no-faults and --real). */
  faults: { rule: FaultRule; description: string }[];
}

/**
 * A short lesson: two right answers, two speech-level mistakes, one particle mistake; and on
 * the way a grade that breaks the schema, an unavailable speech backend, a 429 with
 * Retry-After, a whole Gemini outage (the Gemini API and Vertex AI both down, so OpenAI grades)
 * and a hung model, so every part of the policy shows.
 */
export const LESSON: readonly Activity[] = [
  {
    title: 'Formal greeting',
    prompt: '처음 만난 선생님께 격식 있게 인사하세요.',
    expectedAnswer: '안녕하십니까. 만나서 반갑습니다.',
    targetFormality: 'hapsyo',
    learnerAnswer: '안녕하십니까. 만나서 반갑습니다.',
    faults: [
      {
        rule: { target: 'gemini', model: 'gemini-2.5-flash', fault: { kind: 'schema_invalid' }, times: 1 },
        description: 'Gemini Flash returns a grade that breaks the schema (score 150)',
      },
    ],
  },
  {
    title: 'Introduce yourself',
    prompt: '해요체로 자기소개를 하세요.',
    expectedAnswer: '저는 학생이에요',
    targetFormality: 'haeyo',
    learnerAnswer: '저는 학생입니다',
    mistake: 'formal 합쇼체 where 해요체 was asked',
    faults: [
      {
        rule: { target: 'google-stt', fault: { kind: 'status', status: 14, message: 'The service is currently unavailable.' }, times: 2 },
        description: 'Google Speech-to-Text answers UNAVAILABLE (twice)',
      },
    ],
  },
  {
    title: 'Order water',
    prompt: '식당에서 물을 달라고 하세요.',
    expectedAnswer: '물 좀 주세요',
    targetFormality: 'haeyo',
    learnerAnswer: '물 좀 주세요',
    faults: [
      {
        rule: { target: 'gemini', model: 'gemini-2.5-flash', fault: { kind: 'status', status: 429, message: 'Resource has been exhausted (e.g. check quota).', retryAfterSeconds: 1 }, times: 1 },
        description: 'Gemini Flash answers 429 RESOURCE_EXHAUSTED with Retry-After: 1 s',
      },
    ],
  },
  {
    title: 'What did you do yesterday?',
    prompt: '어제 무엇을 했는지 말하세요: 도서관, 친구.',
    expectedAnswer: '저는 도서관에서 친구를 만났어요',
    targetFormality: 'haeyo',
    learnerAnswer: '저가 도서관을 친구가 만났어요',
    mistake: 'three wrong particles',
    faults: [
      {
        rule: { target: 'gemini', fault: { kind: 'status', status: 503, message: 'The model is overloaded. Please try again later.' } },
        description: 'Gemini outage: the Gemini API answers 503 UNAVAILABLE',
      },
      {
        rule: { target: 'gemini-vertex', fault: { kind: 'status', status: 503, message: 'The service is currently unavailable.' } },
        description: 'Gemini outage: Vertex AI answers 503 UNAVAILABLE too',
      },
    ],
  },
  {
    title: 'Promise to come back',
    prompt: '선생님께 내일 다시 오겠다고 말하세요.',
    expectedAnswer: '내일 다시 오겠습니다',
    targetFormality: 'hapsyo',
    learnerAnswer: '내일 다시 올게',
    mistake: 'plain 반말 to a teacher',
    faults: [
      {
        rule: { target: 'gemini', model: 'gemini-2.5-flash', fault: { kind: 'hang' }, times: 1 },
        description: 'Gemini Flash hangs (never answers)',
      },
    ],
  },
];

/** The live activity after the lesson: spoken and answered while streaming (no faults). */
export const LIVE = {
  title: 'Say what you like',
  prompt: '좋아하는 음식을 해요체로 말해 보세요.',
  expectedAnswer: '저는 김치찌개를 좋아해요',
  targetFormality: 'haeyo',
  learnerAnswer: '저는 김치찌개를 좋아해요',
} as const satisfies { title: string; prompt: string; expectedAnswer: string; targetFormality: Formality; learnerAnswer: string };
