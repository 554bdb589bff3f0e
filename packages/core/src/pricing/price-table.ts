import { z } from 'zod';
import type { Capability } from '../spec/types.js';

/** What a price is charged on. */
export type PriceUnit = 'token_in' | 'audio_token_in' | 'cached_token_in' | 'token_out' | 'audio_second' | 'character' | 'request';

/**
 * One line of a price table. `model` matches a provider's modelId exactly, or as a glob
 * where `*` stands for any run of characters ('*-Wavenet-*'). Exact rows win over globs,
 * longer globs over shorter ones.
 */
export interface PriceRow {
  capability: Capability;
  model: string;
  unit: PriceUnit;
  /** Price in USD per `per` units, as a decimal string (exact: no float rounding), e.g. '0.30'. */
  usd: string;
  /** Units the price is quoted for, e.g. 1_000_000 tokens, 60 audio seconds. */
  per: number;
  /** Billing step in units: usage is rounded up to a multiple of this (e.g. 15 s). Default 1. */
  incrementUnits?: number;
  /** Minimum billed units per request (e.g. 1 s). Default 0. */
  minimumUnits?: number;
  /** Where the price comes from. */
  source: string;
  /** ISO date the price was checked / took effect. */
  effective: string;
}

export interface PriceTable {
  /** Written to every usage row as price_version. */
  version: string;
  rows: PriceRow[];
}

export const priceRowSchema = z.object({
  capability: z.enum(['stt', 'tts', 'eval']),
  model: z.string().min(1),
  unit: z.enum(['token_in', 'audio_token_in', 'cached_token_in', 'token_out', 'audio_second', 'character', 'request']),
  usd: z.string().regex(/^\d+(\.\d{1,9})?$/, 'must be a decimal string such as "0.30"'),
  per: z.number().int().positive(),
  incrementUnits: z.number().int().positive().optional(),
  minimumUnits: z.number().int().nonnegative().optional(),
  source: z.string().min(1),
  effective: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be an ISO date YYYY-MM-DD'),
});
export const priceTableSchema = z.object({ version: z.string().min(1), rows: z.array(priceRowSchema) });

const SECONDARY = 'secondary sources (Google pricing pages as quoted in 2026)';
const OPENAI_TRANSCRIBE = 'openai.com/api/pricing (official; audio input, text input and output token rates)';

/** The three token rows (USD per 1M) of an OpenAI GPT-4o transcription model. */
function gpt4oTranscribe(model: string, usd: { audio: string; text: string; out: string }): PriceRow[] {
  const row = (unit: PriceUnit, price: string): PriceRow => ({ capability: 'stt', model, unit, usd: price, per: 1_000_000, source: OPENAI_TRANSCRIBE, effective: '2026-12-01' });
  return [row('audio_token_in', usd.audio), row('token_in', usd.text), row('token_out', usd.out)];
}

const OPENAI_TEXT = 'openai.com/api/pricing (official, Standard tier; same rates in secondary sources, 2026)';
const GEMINI_CACHED = `${SECONDARY}: context-cache read rate, which implicit caching bills`;

/**
 * The three token rows (USD per 1M) of an OpenAI chat model: input, cached input (the part of
 * `prompt_tokens` that `prompt_tokens_details.cached_tokens` counts), output (reasoning
 * tokens included: they are part of `completion_tokens`).
 */
function openAiChat(model: string, usd: { in: string; cached: string; out: string }): PriceRow[] {
  const row = (unit: PriceUnit, price: string): PriceRow => ({ capability: 'eval', model, unit, usd: price, per: 1_000_000, source: OPENAI_TEXT, effective: '2026-12-01' });
  return [row('token_in', usd.in), row('cached_token_in', usd.cached), row('token_out', usd.out)];
}

/**
 * The default list prices (USD). Prices change: override or extend with `mergePriceTables`.
 * Gemini prices assume prompts up to 200k tokens, which tutoring prompts always are.
 */
export const defaultPriceTable: PriceTable = {
  version: '2026-12-01',
  rows: [
    // Gemini: input tokens, output tokens (thinking included); Flash and Flash-Lite price audio input apart
    { capability: 'eval', model: 'gemini-2.5-pro', unit: 'token_in', usd: '1.25', per: 1_000_000, source: SECONDARY, effective: '2026-01-01' },
    { capability: 'eval', model: 'gemini-2.5-pro', unit: 'token_out', usd: '10', per: 1_000_000, source: SECONDARY, effective: '2026-01-01' },
    { capability: 'eval', model: 'gemini-2.5-flash', unit: 'token_in', usd: '0.30', per: 1_000_000, source: SECONDARY, effective: '2026-01-01' },
    { capability: 'eval', model: 'gemini-2.5-flash', unit: 'audio_token_in', usd: '1.00', per: 1_000_000, source: SECONDARY, effective: '2026-01-01' },
    { capability: 'eval', model: 'gemini-2.5-flash', unit: 'token_out', usd: '2.50', per: 1_000_000, source: SECONDARY, effective: '2026-01-01' },
    { capability: 'eval', model: 'gemini-2.5-flash-lite', unit: 'token_in', usd: '0.10', per: 1_000_000, source: SECONDARY, effective: '2026-01-01' },
    { capability: 'eval', model: 'gemini-2.5-flash-lite', unit: 'audio_token_in', usd: '0.30', per: 1_000_000, source: SECONDARY, effective: '2026-01-01' },
    { capability: 'eval', model: 'gemini-2.5-flash-lite', unit: 'token_out', usd: '0.40', per: 1_000_000, source: SECONDARY, effective: '2026-01-01' },
    // Gemini input tokens served from the cache (usageMetadata.cachedContentTokenCount): a tenth of the input rate.
    // The same model ids and rates on Vertex AI, so both routes price alike.
    { capability: 'eval', model: 'gemini-2.5-pro', unit: 'cached_token_in', usd: '0.125', per: 1_000_000, source: GEMINI_CACHED, effective: '2026-01-01' },
    { capability: 'eval', model: 'gemini-2.5-flash', unit: 'cached_token_in', usd: '0.03', per: 1_000_000, source: GEMINI_CACHED, effective: '2026-01-01' },
    { capability: 'eval', model: 'gemini-2.5-flash-lite', unit: 'cached_token_in', usd: '0.01', per: 1_000_000, source: GEMINI_CACHED, effective: '2026-01-01' },
    // OpenAI chat models a tutor would grade with (Chat Completions, structured output)
    ...openAiChat('gpt-4o-mini', { in: '0.15', cached: '0.075', out: '0.60' }),
    ...openAiChat('gpt-4o', { in: '2.50', cached: '1.25', out: '10.00' }),
    ...openAiChat('gpt-4.1-nano', { in: '0.10', cached: '0.025', out: '0.40' }),
    ...openAiChat('gpt-4.1-mini', { in: '0.40', cached: '0.10', out: '1.60' }),
    ...openAiChat('gpt-4.1', { in: '2.00', cached: '0.50', out: '8.00' }),
    // Cloud Speech-to-Text v1 (standard, no data logging); billed per second here. Some older
    // sources bill v1 in 15 s steps: set incrementUnits: 15 to reproduce that.
    { capability: 'stt', model: 'google-stt/*', unit: 'audio_second', usd: '0.024', per: 60, minimumUnits: 1, source: SECONDARY, effective: '2026-01-01' },
    // Cloud Speech-to-Text v2 standard recognition (Chirp 2, googleStt({ api: 'v2' }) reports modelId 'chirp_2'): billed per second.
    { capability: 'stt', model: 'chirp_2', unit: 'audio_second', usd: '0.016', per: 60, minimumUnits: 1, source: `https://cloud.google.com/speech-to-text/pricing (v2 standard recognition, $0.016 per minute; ${SECONDARY})`, effective: '2026-12-01' },
    // OpenAI Whisper
    { capability: 'stt', model: 'whisper-1', unit: 'audio_second', usd: '0.006', per: 60, source: 'openai.com/api/pricing (official)', effective: '2026-01-01' },
    // OpenAI GPT-4o transcription: billed in tokens, audio input apart from text (prompt) input,
    // transcript as output; usage.input_tokens counts both inputs.
    ...gpt4oTranscribe('gpt-4o-transcribe', { audio: '6.00', text: '2.50', out: '10.00' }),
    ...gpt4oTranscribe('gpt-4o-mini-transcribe', { audio: '3.00', text: '1.25', out: '5.00' }),
    // Cloud Text-to-Speech, by voice tier
    { capability: 'tts', model: '*-Standard-*', unit: 'character', usd: '4', per: 1_000_000, source: SECONDARY, effective: '2026-01-01' },
    { capability: 'tts', model: '*-Wavenet-*', unit: 'character', usd: '4', per: 1_000_000, source: `${SECONDARY}; older lists say $16`, effective: '2026-01-01' },
    { capability: 'tts', model: '*-Neural2-*', unit: 'character', usd: '16', per: 1_000_000, source: SECONDARY, effective: '2026-01-01' },
    { capability: 'tts', model: '*-Chirp3-HD-*', unit: 'character', usd: '30', per: 1_000_000, source: SECONDARY, effective: '2026-01-01' },
    { capability: 'tts', model: '*-Studio-*', unit: 'character', usd: '160', per: 1_000_000, source: SECONDARY, effective: '2026-01-01' },
    // OpenAI speech
    { capability: 'tts', model: 'tts-1', unit: 'character', usd: '15', per: 1_000_000, source: 'openai.com/api/pricing (official)', effective: '2026-01-01' },
    { capability: 'tts', model: 'tts-1-hd', unit: 'character', usd: '30', per: 1_000_000, source: 'openai.com/api/pricing (official)', effective: '2026-01-01' },
    // Self-hosted engines (faster-whisper, VITS) cost nothing per call
    { capability: 'stt', model: 'self-hosted/*', unit: 'audio_second', usd: '0', per: 1, source: 'self-hosted: no per-call charge', effective: '2026-01-01' },
    { capability: 'tts', model: 'self-hosted/*', unit: 'character', usd: '0', per: 1, source: 'self-hosted: no per-call charge', effective: '2026-01-01' },
    // Self-hosted OpenAI-compatible chat servers (vLLM, Ollama) cost nothing per token
    { capability: 'eval', model: 'self-hosted/*', unit: 'token_in', usd: '0', per: 1, source: 'self-hosted: no per-call charge', effective: '2026-12-01' },
    { capability: 'eval', model: 'self-hosted/*', unit: 'token_out', usd: '0', per: 1, source: 'self-hosted: no per-call charge', effective: '2026-12-01' },
  ],
};

/**
 * Layers `override` over `base`: a row of `override` replaces every base row with the same
 * capability, model and unit; other rows are added. The result carries `override.version`.
 */
export function mergePriceTables(base: PriceTable, override: PriceTable): PriceTable {
  const key = (r: PriceRow) => `${r.capability}\u0000${r.model}\u0000${r.unit}`;
  const replaced = new Set(override.rows.map(key));
  return { version: override.version, rows: [...base.rows.filter((r) => !replaced.has(key(r))), ...override.rows] };
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/**
 * Finds the rows pricing `modelId` for `capability`: the exact rows if any, else the rows
 * of the most specific matching glob. Empty when the model is unpriced.
 */
export function findPriceRows(table: PriceTable, capability: Capability, modelId: string): PriceRow[] {
  const candidates = table.rows.filter((r) => r.capability === capability);
  const exact = candidates.filter((r) => r.model === modelId);
  if (exact.length) return exact;
  let best: PriceRow[] = [];
  let bestLen = -1;
  for (const r of candidates) {
    if (!r.model.includes('*') || !globToRegExp(r.model).test(modelId)) continue;
    const len = r.model.replace(/\*/g, '').length;
    if (len > bestLen) {
      best = [r];
      bestLen = len;
    } else if (len === bestLen && best[0]?.model === r.model) best.push(r);
  }
  return best;
}
