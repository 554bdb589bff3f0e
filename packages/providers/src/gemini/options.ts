import type { HttpOptions } from '@google/genai';

/** Options of `geminiEvaluator`. Every field is optional. */
export interface GeminiEvaluatorOptions {
  /**
   * Gemini API key. Default: `process.env.GEMINI_API_KEY`, then `process.env.GOOGLE_API_KEY`.
   * Sent in the `x-goog-api-key` header only; never quoted in errors.
   */
  apiKey?: string;
  /** Model name, priced by the core's table under the same id. Default `'gemini-2.5-flash'`. */
  model?: string;
  /**
   * Passed to `new GoogleGenAI({ httpOptions })`: `baseUrl` (default Google's endpoint),
   * `apiVersion` (default `'v1beta'`, pinned so a client upgrade cannot move it), `headers`,
   * `timeout` (ms per request; the attempt deadline already bounds each call) and `fetch`.
   * `retryOptions` is refused: retries belong to the policy.
   */
  httpOptions?: HttpOptions;
  /** Sampling temperature, 0 to 2. Default: the model's default. */
  temperature?: number;
  /**
   * Most output tokens per answer, thinking included (Gemini 2.5 counts thinking tokens against
   * it). Default 1024, the policy's default `capabilities.eval.maxOutputTokens`: keep the two
   * equal, since the core reserves budget for the policy's value.
   */
  maxOutputTokens?: number;
  /**
   * Thinking budget in tokens (`thinkingConfig.thinkingBudget`); 0 turns thinking off on models
   * that allow it (2.5 Flash), -1 lets the model decide. Default 512 for 'gemini-2.5-*' models
   * (a value every 2.5 model accepts, leaving room for the answer within `maxOutputTokens`);
   * unset for other models.
   */
  thinkingBudget?: number;
  /**
   * Pass mark (0..100) written into the system instruction. Default 70. Keep it equal to the
   * policy's `capabilities.eval.passMark`, which the core checks the answer against.
   */
  passMark?: number;
}

export const GEMINI_DEFAULTS = {
  model: 'gemini-2.5-flash',
  apiVersion: 'v1beta',
  maxOutputTokens: 1024,
  /** Applied to 'gemini-2.5-*' models only. */
  thinkingBudget: 512,
  passMark: 70,
} as const;
