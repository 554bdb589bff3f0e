// The request validators are plain checks (they run on every call); they replaced zod schemas.
// This holds them to those schemas, kept here as they were, with the intended differences
// written into them explicitly: for any request, both flag the same fields.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isAiError } from '../errors/ai-error.js';
import { AUDIO_ENCODINGS, TTS_AUDIO_ENCODINGS } from '../spec/types.js';
import { validateEvalRequest } from './eval-request.js';
import { MAX_EVAL_TEXT_CHARS, MAX_SYNC_AUDIO_BYTES } from './limits.js';
import { validateSttRequest } from './stt-request.js';
import { validateTtsRequest } from './tts-request.js';

// The previous schemas, as they were. Intended differences, each marked INTENDED below:
// - languageCode is case-insensitive (BCP-47 says so: 'ko-kr' is 'ko-KR');
// - a blank learnerAnswer is allowed when audio carries the answer;
// - a whitespace-only voice is refused (no provider has a voice named '  ').
const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'must be a Uint8Array (or Buffer)' });

const sttSchema = z.object({
  audio: bytes.refine((a) => a.byteLength > 0, 'must not be empty').refine((a) => a.byteLength <= MAX_SYNC_AUDIO_BYTES, 'must be at most 10 MB'),
  encoding: z.enum(AUDIO_ENCODINGS as [string, ...string[]]),
  sampleRateHertz: z.number().int('must be an integer').min(8_000).max(48_000).optional(),
  // INTENDED: /i (was /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/).
  languageCode: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/i).optional(),
});

const ttsSchema = z.object({
  text: z.string({ error: 'must be a string' }).refine((t) => t.trim().length > 0, 'must not be empty'),
  // INTENDED: whitespace-only refused (was .min(1)).
  voice: z.string({ error: 'must be a string' }).refine((t) => t.trim().length > 0, 'must not be empty').max(100).optional(),
  audioEncoding: z.enum(TTS_AUDIO_ENCODINGS as [string, ...string[]]).optional(),
  speakingRate: z.number().min(0.25).max(4).optional(),
});

const evalText = z.string({ error: 'must be a string' }).refine((t) => t.trim().length > 0, 'must not be empty').max(MAX_EVAL_TEXT_CHARS);
const evalSchema = z.object({
  prompt: evalText,
  // INTENDED: blank allowed when audio is given (was evalText); the blank check is in evalFields.
  learnerAnswer: z.string({ error: 'must be a string' }).max(MAX_EVAL_TEXT_CHARS),
  expectedAnswer: z.string().max(MAX_EVAL_TEXT_CHARS).optional(),
  targetFormality: z.enum(['hapsyo', 'haeyo', 'banmal']).optional(),
  level: z.string().max(50).optional(),
  audio: z
    .object({ data: bytes.refine((a) => a.byteLength > 0, 'must not be empty').refine((a) => a.byteLength <= MAX_SYNC_AUDIO_BYTES, 'must be at most 10 MB'), mimeType: z.string().regex(/^audio\/[a-z0-9.+-]+$/i) })
    .optional(),
});

/** evalSchema's fields, and learnerAnswer when it is blank with no audio to carry the answer. */
function evalFields(req: Record<string, unknown>): string[] {
  const fields = new Set(zodFields(evalSchema, req));
  const answer = req.learnerAnswer;
  if (typeof answer === 'string' && answer.trim().length === 0 && req.audio === undefined) fields.add('learnerAnswer');
  return [...fields].sort();
}

/** The fields zod flags ('(request)' for the whole). */
function zodFields(schema: z.ZodType, req: unknown): string[] {
  const r = schema.safeParse(req);
  return r.success ? [] : [...new Set(r.error.issues.map((i) => i.path.join('.') || '(request)'))].sort();
}

// Checks the plain validators make past the schemas' (what the bytes are, their length): not compared.
const PAST_THE_SCHEMA = /does not parse as|required for LINEAR16|ms is longer than/;

/** The fields a plain validator flags, from its invalid_request message. */
function plainFields(check: () => unknown): string[] {
  try {
    check();
    return [];
  } catch (e) {
    if (!isAiError(e) || e.code !== 'invalid_request') throw e;
    const issues = e.message.slice(e.message.indexOf('invalid request: ') + 'invalid request: '.length).split('; ');
    return [...new Set(issues.filter((i) => !PAST_THE_SCHEMA.test(i)).map((i) => i.slice(0, i.indexOf(':'))))].sort();
  }
}

const anyValue = fc.oneof(fc.constant(undefined), fc.constant(null), fc.integer(), fc.double(), fc.boolean(), fc.string({ maxLength: 8 }), fc.constant({}), fc.constant([]));
const audioBytes = fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.constant(new Uint8Array(0)), anyValue);
const blankish = fc.oneof(fc.constant(''), fc.constant('   '), fc.constant('\t\n'), fc.string({ maxLength: 12 }), fc.string({ minLength: MAX_EVAL_TEXT_CHARS - 1, maxLength: MAX_EVAL_TEXT_CHARS + 1 }));
const optional = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

const sttReq = fc.record({
  audio: audioBytes,
  encoding: fc.oneof(fc.constantFrom(...AUDIO_ENCODINGS), anyValue),
  sampleRateHertz: optional(fc.oneof(fc.constantFrom(7_999, 8_000, 16_000, 48_000, 48_001, 16_000.5, Number.NaN), anyValue)),
  languageCode: optional(fc.oneof(fc.constantFrom('ko-KR', 'ko-kr', 'KO-KR', 'cmn-Hans-CN', 'k', 'korean', 'ko_KR', 'ko-'), anyValue)),
}, { requiredKeys: [] });

const ttsReq = fc.record({
  text: fc.oneof(blankish, anyValue),
  voice: optional(fc.oneof(fc.constantFrom('ko-KR-Neural2-A', '', ' ', 'x'.repeat(100), 'x'.repeat(101)), anyValue)),
  audioEncoding: optional(fc.oneof(fc.constantFrom(...TTS_AUDIO_ENCODINGS), anyValue)),
  speakingRate: optional(fc.oneof(fc.constantFrom(0.24, 0.25, 1, 4, 4.01, Number.NaN), anyValue)),
}, { requiredKeys: [] });

const evalReq = fc.record({
  prompt: fc.oneof(blankish, anyValue),
  learnerAnswer: fc.oneof(blankish, anyValue),
  expectedAnswer: optional(fc.oneof(blankish, anyValue)),
  targetFormality: optional(fc.oneof(fc.constantFrom('hapsyo', 'haeyo', 'banmal', 'HAEYO'), anyValue)),
  level: optional(fc.oneof(fc.constantFrom('A2', 'x'.repeat(50), 'x'.repeat(51)), anyValue)),
  audio: optional(fc.oneof(fc.record({ data: audioBytes, mimeType: fc.oneof(fc.constantFrom('audio/wav', 'AUDIO/WEBM', 'audio/', 'video/mp4'), anyValue) }, { requiredKeys: [] }), anyValue)),
}, { requiredKeys: [] });

describe('the plain request validators and the zod schemas they replaced', () => {
  it('stt: the same fields are flagged', () => {
    fc.assert(fc.property(sttReq, (req) => {
      expect(plainFields(() => validateSttRequest(req))).toEqual(zodFields(sttSchema, req));
    }), { numRuns: 2_000 });
  });

  it('tts: the same fields are flagged', () => {
    fc.assert(fc.property(ttsReq, (req) => {
      expect(plainFields(() => validateTtsRequest(req))).toEqual(zodFields(ttsSchema, req));
    }), { numRuns: 2_000 });
  });

  it('eval: the same fields are flagged', () => {
    fc.assert(fc.property(evalReq, (req) => {
      expect(plainFields(() => validateEvalRequest(req))).toEqual(evalFields(req));
    }), { numRuns: 2_000 });
  });

  it('a voice that is not a string is named as such', () => {
    for (const voice of [42, null, {}, true]) {
      expect(() => validateTtsRequest({ text: '네', voice })).toThrow(expect.objectContaining({ code: 'invalid_request', message: 'tts.synthesize: invalid request: voice: must be a string' }));
    }
  });
});
