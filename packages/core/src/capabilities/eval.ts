import { checkEvalOutput, evalOutputJsonSchema, type EvalOutput } from '../eval/eval-result.js';
import { evalSystemInstruction, evalUserPrompt } from '../eval/prompt.js';
import type { UsageUnits } from '../pricing/cost.js';
import { validateEvalRequest } from '../requests/eval-request.js';
import { OPERATIONS, type EvalErrorItem, type EvalProvider, type EvalProviderResult, type EvalRequest, type EvalResult, type ResultMeta } from '../spec/types.js';
import { attachmentDurationMs, worstAudioMs } from './audio-bounds.js';
import type { CapabilityDescriptor } from './descriptor.js';

/**
 * The response schema the adapters send (Gemini's responseJsonSchema, OpenAI's strict
 * json_schema) is billed as prompt tokens. Bounded by twice its serialized UTF-8 length: a
 * token is never shorter than a byte, and OpenAI's strict form (required lists, nullable
 * wrappers, no length keywords) stays within twice the plain schema (a providers test holds it).
 */
export const EVAL_SCHEMA_TOKENS_BOUND = 2 * Buffer.byteLength(JSON.stringify(evalOutputJsonSchema), 'utf8');
/** Framing billed per message: OpenAI counts 3 tokens per message and 3 to prime the reply; eval sends two messages. */
export const EVAL_MESSAGE_OVERHEAD_TOKENS = 3 * (2 + 1);

/** Gemini bills audio input at 32 tokens per second. */
const AUDIO_TOKENS_PER_SECOND = 32;

type Checked = EvalOutput & { errors: EvalErrorItem[] };

// The system instruction depends only on the pass mark: its size is measured once per mark.
const instructionBytes = new Map<number, number>();
function systemInstructionBytes(passMark: number): number {
  let n = instructionBytes.get(passMark);
  if (n === undefined) {
    n = Buffer.byteLength(evalSystemInstruction(passMark), 'utf8');
    instructionBytes.set(passMark, n);
  }
  return n;
}

/**
 * The most one evaluation attempt can bill. Upper bounds, not guesses: a token is never
 * shorter than one UTF-8 byte, the prompt counts the instruction, the user prompt, the
 * response schema and the per-message framing, output is capped by maxOutputTokens, attached audio is measured
 * from its container or, when the container does not state its length (WEBM), sized as if it
 * played at 6 kbit/s.
 */
export function evalWorstCase(req: EvalRequest, passMark: number, maxOutputTokens: number): UsageUnits {
  const tokensIn = systemInstructionBytes(passMark) + Buffer.byteLength(evalUserPrompt(req), 'utf8') + EVAL_SCHEMA_TOKENS_BOUND + EVAL_MESSAGE_OVERHEAD_TOKENS;
  if (req.audio) {
    const audioMs = worstAudioMs(req.audio.data, attachmentDurationMs(req.audio.data, req.audio.mimeType));
    const audioTokensIn = Math.ceil(audioMs / 1000) * AUDIO_TOKENS_PER_SECOND;
    return { tokensIn: tokensIn + audioTokensIn, audioTokensIn, tokensOut: maxOutputTokens, requests: 1 };
  }
  return { tokensIn, tokensOut: maxOutputTokens, requests: 1 };
}

/** LLM evaluation of a learner answer: `client.eval.evaluate`. */
export const evalCapability: CapabilityDescriptor<EvalRequest, undefined, EvalProviderResult, Checked, EvalResult> = {
  capability: 'eval',
  operation: OPERATIONS.eval,
  validate(req) {
    validateEvalRequest(req);
    return undefined;
  },
  modelIdFor: (provider) => provider.modelId,
  // The evaluator's instruction and output cap match what the core checks and reserves.
  attemptFields: (policy) => ({ passMark: policy.capabilities.eval.passMark, maxOutputTokens: policy.capabilities.eval.maxOutputTokens }),
  invoke: (provider, req, ctx) => (provider as EvalProvider).evaluate(req, ctx),
  check: (raw, policy, providerKey) => checkEvalOutput(raw.output, policy.capabilities.eval.passMark, providerKey),
  units(r) {
    const units: { tokensIn: number; tokensOut: number; requests: number; audioTokensIn?: number; cachedTokensIn?: number } = { tokensIn: r.tokensIn, tokensOut: r.tokensOut, requests: 1 };
    if (r.audioTokensIn !== undefined) units.audioTokensIn = r.audioTokensIn;
    if (r.cachedTokensIn !== undefined) units.cachedTokensIn = r.cachedTokensIn;
    return units;
  },
  worstCase: (req, _facts, policy) => evalWorstCase(req, policy.capabilities.eval.passMark, policy.capabilities.eval.maxOutputTokens),
  result: (_raw, o, meta: ResultMeta): EvalResult => ({
    score: o.score,
    passFail: o.passFail,
    primaryErrorType: o.primaryErrorType,
    errors: o.errors,
    suggestions: o.suggestions,
    rationale: o.rationale,
    meta,
  }),
};
