import { z } from 'zod';
import { audioDurationMs } from '../audio/audio-info.js';
import { audioContainerProblem } from '../audio/container-check.js';
import { parseWav } from '../audio/wav.js';
import { AiError } from '../errors/ai-error.js';
import { AUDIO_ENCODINGS, TTS_AUDIO_ENCODINGS, type Capability, type EvalRequest, type SttRequest, type TtsRequest } from '../spec/types.js';

/** Synchronous recognition limits shared by Google STT and Whisper. */
export const MAX_SYNC_AUDIO_BYTES = 10 * 1024 * 1024;
export const MAX_SYNC_AUDIO_MS = 60_000;
export const MAX_EVAL_TEXT_CHARS = 4_000;

const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'must be a Uint8Array (or Buffer)' });

const sttSchema = z.object({
  audio: bytes
    .refine((a) => a.byteLength > 0, 'must not be empty')
    .refine((a) => a.byteLength <= MAX_SYNC_AUDIO_BYTES, `must be at most ${MAX_SYNC_AUDIO_BYTES} bytes (10 MB) for synchronous recognition`),
  encoding: z.enum(AUDIO_ENCODINGS as [string, ...string[]], { error: `must be one of ${AUDIO_ENCODINGS.join(', ')}` }),
  sampleRateHertz: z.number().int('must be an integer').min(8_000, 'must be >= 8000').max(48_000, 'must be <= 48000').optional(),
  languageCode: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "must be a BCP-47 code such as 'ko-KR'").optional(),
});

const ttsSchema = z.object({
  text: z.string({ error: 'must be a string' }).refine((t) => t.trim().length > 0, 'must not be empty'),
  voice: z.string().min(1, 'must not be empty').max(100, 'must be at most 100 characters').optional(),
  audioEncoding: z.enum(TTS_AUDIO_ENCODINGS as [string, ...string[]], { error: `must be one of ${TTS_AUDIO_ENCODINGS.join(', ')}` }).optional(),
  speakingRate: z.number().min(0.25, 'must be >= 0.25').max(4, 'must be <= 4').optional(),
});

const evalSchema = z.object({
  prompt: z.string({ error: 'must be a string' }).refine((t) => t.trim().length > 0, 'must not be empty').max(MAX_EVAL_TEXT_CHARS, `must be at most ${MAX_EVAL_TEXT_CHARS} characters`),
  learnerAnswer: z
    .string({ error: 'must be a string' })
    .refine((t) => t.trim().length > 0, 'must not be empty')
    .max(MAX_EVAL_TEXT_CHARS, `must be at most ${MAX_EVAL_TEXT_CHARS} characters`),
  expectedAnswer: z.string().max(MAX_EVAL_TEXT_CHARS, `must be at most ${MAX_EVAL_TEXT_CHARS} characters`).optional(),
  targetFormality: z.enum(['hapsyo', 'haeyo', 'banmal'], { error: "must be 'hapsyo', 'haeyo' or 'banmal'" }).optional(),
  level: z.string().max(50, 'must be at most 50 characters').optional(),
  audio: z
    .object({ data: bytes.refine((a) => a.byteLength > 0, 'must not be empty').refine((a) => a.byteLength <= MAX_SYNC_AUDIO_BYTES, 'must be at most 10 MB'), mimeType: z.string().regex(/^audio\/[a-z0-9.+-]+$/i, "must be an audio MIME type such as 'audio/wav'") })
    .optional(),
});

const OPERATION: Record<Capability, string> = { stt: 'stt.transcribe', tts: 'tts.synthesize', eval: 'eval.evaluate' };

function fail(capability: Capability, error: z.ZodError): never {
  // Paths and rules only: the values are learner content and never go into a message.
  const detail = error.issues.map((i) => `${i.path.join('.') || '(request)'}: ${i.message}`).join('; ');
  throw new AiError('invalid_request', `${OPERATION[capability]}: invalid request: ${detail}`, { retryable: false });
}

export function validateSttRequest(req: unknown): SttRequest {
  const r = sttSchema.safeParse(req);
  if (!r.success) fail('stt', r.error);
  const value = req as SttRequest;
  // Bytes that are not what the encoding claims (text, an image, zeros) would be sent and
  // billed, or fail at every provider as 'exhausted': refuse them here, naming the claim.
  const problem = audioContainerProblem(value.audio, value.encoding);
  if (problem) {
    throw new AiError('invalid_request', `stt.transcribe: invalid request: audio: does not parse as ${value.encoding}, the encoding given: ${problem}`, {
      retryable: false,
    });
  }
  if (value.encoding === 'LINEAR16' && value.sampleRateHertz === undefined && !parseWav(value.audio)) {
    throw new AiError('invalid_request', 'stt.transcribe: invalid request: sampleRateHertz: required for LINEAR16 audio without a WAV header', {
      retryable: false,
    });
  }
  // Every container that states its length is measured, so no provider is sent (and bills)
  // more than the synchronous limit; WEBM does not say, and is bounded by size instead.
  const durationMs = audioDurationMs(value.audio, value.encoding, value.sampleRateHertz);
  if (durationMs !== undefined && durationMs > MAX_SYNC_AUDIO_MS) {
    throw new AiError('invalid_request', `stt.transcribe: invalid request: audio: ${durationMs} ms is longer than the ${MAX_SYNC_AUDIO_MS} ms synchronous limit`, {
      retryable: false,
    });
  }
  return value;
}

export function validateTtsRequest(req: unknown, maxTextBytes: number): TtsRequest {
  const r = ttsSchema.safeParse(req);
  if (!r.success) fail('tts', r.error);
  const value = req as TtsRequest;
  const size = Buffer.byteLength(value.text, 'utf8');
  if (size > maxTextBytes) {
    throw new AiError('invalid_request', `tts.synthesize: invalid request: text: ${size} UTF-8 bytes exceeds the policy's maxTextBytes (${maxTextBytes})`, {
      retryable: false,
    });
  }
  return value;
}

export function validateEvalRequest(req: unknown): EvalRequest {
  const r = evalSchema.safeParse(req);
  if (!r.success) fail('eval', r.error);
  return req as EvalRequest;
}

/** Longest delay a Node timer takes (2^31 - 1 ms); longer ones fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

const callOptionsSchema = z.object({
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, { message: 'must be an AbortSignal' }).optional(),
  sessionId: z.string({ error: 'must be a string' }).min(1, 'must not be empty').max(200, 'must be at most 200 characters').optional(),
  eventId: z.string({ error: 'must be a string' }).min(1, 'must not be empty').max(200, 'must be at most 200 characters').optional(),
  metadata: z.record(z.string(), z.unknown(), { error: 'must be an object' }).optional(),
  deadlineMs: z.number({ error: 'must be a number of milliseconds' }).int('must be an integer').positive('must be > 0').max(MAX_TIMER_MS, `must be <= ${MAX_TIMER_MS}`).optional(),
});

/** Checks a call's options before anything is reserved or sent; `invalid_request` names the option. */
export function validateCallOptions(capability: Capability, opts: unknown): void {
  if (opts === undefined) return;
  const r = callOptionsSchema.safeParse(opts);
  if (r.success) return;
  const detail = r.error.issues.map((i) => `options.${i.path.join('.') || '(options)'}: ${i.message}`).join('; ');
  throw new AiError('invalid_request', `${OPERATION[capability]}: invalid call options: ${detail}`, { retryable: false });
}
