import type { UsageUnits } from '../pricing/cost.js';
import { validateSttRequest, type SttAudioFacts } from '../requests/stt-request.js';
import { OPERATIONS, type ResultMeta, type SttProvider, type SttProviderResult, type SttRequest, type SttResult } from '../spec/types.js';
import { worstAudioMs } from './audio-bounds.js';
import type { CapabilityDescriptor } from './descriptor.js';

/**
 * OpenAI's token-billed transcribers (gpt-4o-transcribe, gpt-4o-mini-transcribe) bill about
 * 10 audio tokens per second of audio (one per 100 ms), counted here per started second.
 */
export const STT_AUDIO_TOKENS_PER_SECOND = 10;
/** The output cap of those transcribers (2,000 tokens): no transcript bills more. */
export const STT_MAX_OUTPUT_TOKENS = 2_000;

/**
 * The most one transcription attempt can bill: the audio measured from its container when it
 * says (`knownMs`), else sized at 6 kbit/s. Both ways a transcriber bills are counted: per
 * audio second (Google, whisper-1) and per token (the GPT-4o transcribers, whose price rows
 * are token rows). Each model's rows price only the units they charge, so each model's worst
 * case counts its own.
 */
export function sttWorstCase(req: SttRequest, knownMs: number | undefined): UsageUnits {
  const audioMs = worstAudioMs(req.audio, knownMs);
  const audioTokensIn = Math.ceil(audioMs / 1000) * STT_AUDIO_TOKENS_PER_SECOND;
  return { audioDurationMs: audioMs, tokensIn: audioTokensIn, audioTokensIn, tokensOut: STT_MAX_OUTPUT_TOKENS, requests: 1 };
}

/** Speech to text: `client.stt.transcribe`. */
export const sttCapability: CapabilityDescriptor<SttRequest, SttAudioFacts, SttProviderResult, undefined, SttResult> = {
  capability: 'stt',
  operation: OPERATIONS.stt,
  validate: (req) => validateSttRequest(req),
  modelIdFor: (provider) => provider.modelId,
  invoke: (provider, req, ctx) => (provider as SttProvider).transcribe(req, ctx),
  check: () => undefined,
  units(r) {
    // Per-second models bill audioDurationMs, token-billed ones (gpt-4o-transcribe) the
    // tokens: the model's price rows pick the units they charge.
    const units: { audioDurationMs: number; requests: number; tokensIn?: number; audioTokensIn?: number; tokensOut?: number } = { audioDurationMs: r.audioDurationMs, requests: 1 };
    if (r.tokensIn !== undefined) units.tokensIn = r.tokensIn;
    if (r.audioTokensIn !== undefined) units.audioTokensIn = r.audioTokensIn;
    if (r.tokensOut !== undefined) units.tokensOut = r.tokensOut;
    return units;
  },
  worstCase: (req, facts) => sttWorstCase(req, facts.durationMs),
  result(r, _checked, meta: ResultMeta): SttResult {
    const out: SttResult = { transcript: r.transcript, audioDurationMs: r.audioDurationMs, meta };
    if (r.confidence !== undefined) out.confidence = r.confidence;
    return out;
  },
};
