import { AUDIO_ENCODINGS, TTS_AUDIO_ENCODINGS } from '@korean-together/core';

// JSON Schemas of the request bodies; Fastify validates every request against them (ajv)
// before a handler runs. Limits mirror what the SDK refuses anyway, so a bad request is a
// 400 here instead of a call attempt.

const uuid = { type: 'string', format: 'uuid' } as const;
/** Base64 (standard alphabet); the decoded bytes are checked by the SDK (size, format, duration). */
const base64 = { type: 'string', minLength: 1, maxLength: 14_000_000, pattern: '^[A-Za-z0-9+/]*={0,2}$' } as const;
const formality = { type: 'string', enum: ['hapsyo', 'haeyo', 'banmal'] } as const;
/**
 * Free text must not hold NUL (U+0000): Postgres cannot store it in a text column (SQLSTATE
 * 22021), so it is refused here, naming the field, before any AI call is paid for.
 */
export const NO_NUL_PATTERN = '^[^\\u0000]*$';
const freeText = (maxLength: number, minLength = 1) => ({ type: 'string', minLength, maxLength, pattern: NO_NUL_PATTERN }) as const;
const shortText = freeText(4000);

const audioFields = {
  audio: base64,
  encoding: { type: 'string', enum: [...AUDIO_ENCODINGS] },
  sampleRateHertz: { type: 'integer', minimum: 8000, maximum: 48000 },
} as const;

export const sttBody = {
  type: 'object',
  required: ['audio', 'encoding'],
  additionalProperties: false,
  properties: { ...audioFields, languageCode: freeText(35, 2), sessionId: uuid },
} as const;

export const ttsBody = {
  type: 'object',
  required: ['text'],
  additionalProperties: false,
  properties: {
    text: freeText(20_000),
    voice: freeText(100),
    audioEncoding: { type: 'string', enum: [...TTS_AUDIO_ENCODINGS] },
    speakingRate: { type: 'number', minimum: 0.25, maximum: 4 },
    sessionId: uuid,
  },
} as const;

export const evaluateBody = {
  type: 'object',
  required: ['prompt', 'learnerAnswer'],
  additionalProperties: false,
  properties: {
    prompt: shortText,
    learnerAnswer: shortText,
    expectedAnswer: shortText,
    targetFormality: formality,
    level: freeText(50),
    sessionId: uuid,
  },
} as const;

export const turnBody = {
  type: 'object',
  required: ['prompt'],
  additionalProperties: false,
  properties: {
    sessionId: uuid,
    activityId: uuid,
    prompt: shortText,
    expectedAnswer: shortText,
    targetFormality: formality,
    level: freeText(50),
    /** The spoken answer (base64) with its encoding; or `text`. */
    ...audioFields,
    text: shortText,
    voice: freeText(100),
    replyEncoding: { type: 'string', enum: [...TTS_AUDIO_ENCODINGS] },
  },
  // Audio needs its encoding; the handler checks that exactly one of audio / text is given.
  dependencies: { audio: ['encoding'], encoding: ['audio'] },
} as const;

export const statsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { days: { type: 'integer', minimum: 1, maximum: 366, default: 30 } },
} as const;

export interface SttBody {
  audio: string;
  encoding: (typeof AUDIO_ENCODINGS)[number];
  sampleRateHertz?: number;
  languageCode?: string;
  sessionId?: string;
}
export interface TtsBody {
  text: string;
  voice?: string;
  audioEncoding?: (typeof TTS_AUDIO_ENCODINGS)[number];
  speakingRate?: number;
  sessionId?: string;
}
export interface EvaluateBody {
  prompt: string;
  learnerAnswer: string;
  expectedAnswer?: string;
  targetFormality?: 'hapsyo' | 'haeyo' | 'banmal';
  level?: string;
  sessionId?: string;
}
export interface TurnBody extends Partial<Omit<SttBody, 'languageCode'>> {
  sessionId?: string;
  activityId?: string;
  prompt: string;
  expectedAnswer?: string;
  targetFormality?: 'hapsyo' | 'haeyo' | 'banmal';
  level?: string;
  text?: string;
  voice?: string;
  replyEncoding?: (typeof TTS_AUDIO_ENCODINGS)[number];
}
export interface StatsQuery {
  days: number;
}
