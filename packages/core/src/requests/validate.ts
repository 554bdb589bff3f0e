import { z } from 'zod';
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
  prompt: z.string({ error: 'must be a string' }).min(1, 'must not be empty').max(MAX_EVAL_TEXT_CHARS, `must be at most ${MAX_EVAL_TEXT_CHARS} characters`),
  learnerAnswer: z
    .string({ error: 'must be a string' })
    .min(1, 'must not be empty')
    .max(MAX_EVAL_TEXT_CHARS, `must be at most ${MAX_EVAL_TEXT_CHARS} characters`),
  expectedAnswer: z.string().max(MAX_EVAL_TEXT_CHARS, `must be at most ${MAX_EVAL_TEXT_CHARS} characters`).optional(),
  targetFormality: z.enum(['hapsyo', 'haeyo', 'banmal'], { error: "must be 'hapsyo', 'haeyo' or 'banmal'" }).optional(),
  level: z.string().max(50, 'must be at most 50 characters').optional(),
  audio: z
    .object({ data: bytes.refine((a) => a.byteLength > 0, 'must not be empty').refine((a) => a.byteLength <= MAX_SYNC_AUDIO_BYTES, 'must be at most 10 MB'), mimeType: z.string().min(1) })
    .optional(),
});

const OPERATION: Record<Capability, string> = { stt: 'stt.transcribe', tts: 'tts.synthesize', eval: 'eval.evaluate' };

function fail(capability: Capability, error: z.ZodError): never {
  // Paths and rules only: the values are learner content and never go into a message.
  const detail = error.issues.map((i) => `${i.path.join('.') || '(request)'}: ${i.message}`).join('; ');
  throw new AiError('invalid_request', `${OPERATION[capability]}: invalid request: ${detail}`, { retryable: false });
}

/** Reads the sample rate and data size from a RIFF/WAVE header, when the bytes have one. */
export function readWavHeader(audio: Uint8Array): { sampleRateHertz: number; channels: number; bitsPerSample: number; dataBytes: number } | undefined {
  if (audio.byteLength < 44) return undefined;
  const view = new DataView(audio.buffer, audio.byteOffset, audio.byteLength);
  if (view.getUint32(0, false) !== 0x52494646 || view.getUint32(8, false) !== 0x57415645) return undefined;
  let offset = 12;
  let fmt: { sampleRateHertz: number; channels: number; bitsPerSample: number } | undefined;
  while (offset + 8 <= audio.byteLength) {
    const id = view.getUint32(offset, false);
    const size = view.getUint32(offset + 4, true);
    if (id === 0x666d7420 && offset + 24 <= audio.byteLength) {
      fmt = { channels: view.getUint16(offset + 10, true), sampleRateHertz: view.getUint32(offset + 12, true), bitsPerSample: view.getUint16(offset + 22, true) };
    } else if (id === 0x64617461 && fmt) {
      return { ...fmt, dataBytes: Math.min(size, audio.byteLength - offset - 8) };
    }
    offset += 8 + size + (size % 2);
  }
  return undefined;
}

/** Duration of LINEAR16 audio in ms when it can be known from the bytes (WAV header or raw PCM + rate). */
export function linear16DurationMs(req: Pick<SttRequest, 'audio' | 'encoding' | 'sampleRateHertz'>): number | undefined {
  if (req.encoding !== 'LINEAR16') return undefined;
  const wav = readWavHeader(req.audio);
  if (wav) return Math.round((wav.dataBytes / (wav.channels * (wav.bitsPerSample / 8) * wav.sampleRateHertz)) * 1000);
  if (req.sampleRateHertz) return Math.round((req.audio.byteLength / (2 * req.sampleRateHertz)) * 1000);
  return undefined;
}

export function validateSttRequest(req: unknown): SttRequest {
  const r = sttSchema.safeParse(req);
  if (!r.success) fail('stt', r.error);
  const value = req as SttRequest;
  const durationMs = linear16DurationMs(value);
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
