// What the simulated host does: how many calls (or lessons), how many at once, which capabilities.
import { z } from 'zod';
import type { AiPolicy } from '../../policy/ai-policy.js';
import { MAX_SYNC_AUDIO_MS } from '../../requests/limits.js';
import { CAPABILITIES, type Capability } from '../../spec/types.js';
import { configError, zodIssues } from './profile.js';

const count = z.number().int('must be an integer').min(0, 'must be >= 0');
const weight = z.number().finite('must be a finite number').min(0, 'must be >= 0');

export const workloadSchema = z
  .object({
    /** Independent calls, capability drawn from `mix`. */
    calls: z.number().int('must be an integer').positive('must be > 0').optional(),
    /** Or lessons: each is one session (its own sessionId, for the per-session budget) making `lesson`'s calls in turn. */
    lessons: z.number().int('must be an integer').positive('must be > 0').optional(),
    /** Calls of one lesson per capability; run stt, eval, tts turn by turn. Default one of each capability that has providers. */
    lesson: z.object({ stt: count.optional(), tts: count.optional(), eval: count.optional() }).strict().optional(),
    /** Calls (or lessons) in flight at once: a closed loop, the next starts when one ends. Default 10. */
    concurrency: z.number().int('must be an integer').positive('must be > 0').optional(),
    /** Instead: an open loop, calls (or lessons) arriving at this mean rate per second (Poisson). */
    arrivalsPerSecond: z.number().positive('must be > 0').optional(),
    /** Relative weights of the capabilities for `calls`. Default equal over those with providers. */
    mix: z.object({ stt: weight.optional(), tts: weight.optional(), eval: weight.optional() }).strict().optional(),
    /** Request sizes: STT audio length (ms, LINEAR16 16 kHz), TTS text length (characters). Defaults 3000 and 40. */
    request: z.object({ sttAudioMs: z.number().int().positive('must be > 0').optional(), ttsChars: z.number().int().positive('must be > 0').optional() }).strict().optional(),
  })
  .strict()
  .refine((w) => (w.calls === undefined) !== (w.lessons === undefined), { message: 'give exactly one of calls and lessons', path: ['calls'] });

export type Workload = z.input<typeof workloadSchema>;
export type ParsedWorkload = z.output<typeof workloadSchema>;

/** The TTS text the simulation sends: Korean, `chars` characters long. */
export function ttsTextOf(chars: number): string {
  return '안녕하세요 반갑습니다 '.repeat(Math.ceil(chars / 12)).slice(0, chars);
}

/**
 * Validates the workload: its shape, capabilities with providers, and request sizes the client
 * accepts (a request over the engine's limits would only measure the client refusing it).
 */
export function parseWorkload(input: unknown, available: readonly Capability[], policy: AiPolicy): ParsedWorkload {
  const parsed = workloadSchema.safeParse(input);
  if (!parsed.success) throw configError(zodIssues('workload', parsed.error));
  const w = parsed.data;
  for (const c of CAPABILITIES) {
    if (!available.includes(c) && ((w.mix?.[c] ?? 0) > 0 || (w.lesson?.[c] ?? 0) > 0)) throw configError(`workload.${w.mix?.[c] ? 'mix' : 'lesson'}.${c}: no ${c} provider in the profiles`);
  }
  if (w.mix && CAPABILITIES.every((c) => !(w.mix![c]! > 0))) throw configError('workload.mix: every weight is 0');
  if (w.lesson && CAPABILITIES.every((c) => !(w.lesson![c]! > 0))) throw configError('workload.lesson: a lesson makes no calls');
  const sttAudioMs = w.request?.sttAudioMs;
  if (sttAudioMs !== undefined && sttAudioMs > MAX_SYNC_AUDIO_MS) {
    throw configError(`workload.request.sttAudioMs: ${sttAudioMs} ms is over the client's ${MAX_SYNC_AUDIO_MS} ms STT limit`);
  }
  const ttsChars = w.request?.ttsChars;
  if (ttsChars !== undefined) {
    const bytes = Buffer.byteLength(ttsTextOf(ttsChars), 'utf8');
    const max = policy.capabilities.tts.maxTextBytes;
    if (bytes > max) throw configError(`workload.request.ttsChars: ${ttsChars} characters are ${bytes} UTF-8 bytes, over capabilities.tts.maxTextBytes (${max})`);
  }
  return w;
}
