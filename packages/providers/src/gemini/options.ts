import type { GoogleGenAIOptions, HttpOptions } from '@google/genai';

/**
 * Gemini on Vertex AI instead of the Gemini API: the same models behind a separate endpoint
 * (`{location}-aiplatform.googleapis.com`), a separate quota and Google Cloud credentials, so it
 * is a real second step in a chain. Passed to `new GoogleGenAI({ vertexai: true, ... })`.
 */
export interface GeminiVertexOptions {
  /** Google Cloud project id. Default: `process.env.GOOGLE_CLOUD_PROJECT`. Required unless `apiKey` (express mode). */
  project?: string;
  /** Region ('us-central1', 'europe-west4') or 'global'. Default: `process.env.GOOGLE_CLOUD_LOCATION`, else 'global'. */
  location?: string;
  /**
   * How to authenticate, passed to google-auth-library's GoogleAuth: `{ credentials }` (a
   * service-account key), `{ keyFilename }`, or `{ authClient }` (any AuthClient: an
   * OAuth2Client holding a token, an impersonated or external-account client). Default:
   * Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, the metadata server, gcloud).
   */
  googleAuthOptions?: GoogleGenAIOptions['googleAuthOptions'];
  /**
   * Vertex AI express mode: an API key instead of a project and credentials (sent in
   * `x-goog-api-key`, never quoted in errors). Mutually exclusive with `project`.
   */
  apiKey?: string;
}

/** Options of `geminiEvaluator`. Every field is optional. */
export interface GeminiEvaluatorOptions {
  /**
   * Gemini API key. Default: `process.env.GEMINI_API_KEY`, then `process.env.GOOGLE_API_KEY`.
   * Sent in the `x-goog-api-key` header only; never quoted in errors. Not used with `vertex`.
   */
  apiKey?: string;
  /**
   * Call the model on Vertex AI instead of the Gemini API (provider name 'gemini-vertex'; the
   * same modelId and price rows). See `GeminiVertexOptions`.
   */
  vertex?: GeminiVertexOptions;
  /** Model name, priced by the core's table under the same id. Default `'gemini-2.5-flash'`. */
  model?: string;
  /**
   * Passed to `new GoogleGenAI({ httpOptions })`: `baseUrl` (default Google's endpoint),
   * `apiVersion` (default `'v1beta'` on the Gemini API, `'v1beta1'` on Vertex AI, pinned so a
   * client upgrade cannot move it), `headers`,
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
  vertexApiVersion: 'v1beta1',
  vertexLocation: 'global',
  maxOutputTokens: 1024,
  /** Applied to 'gemini-2.5-*' models only. */
  thinkingBudget: 512,
  passMark: 70,
} as const;
