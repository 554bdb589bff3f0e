import type { Capability } from '@korean-together/core';

/**
 * The providers the tutoring server wires, by the keys its policy file (ai-policy.json) names
 * in its chains. One list serves the server, the demo and the generated docs/AI_POLICY.md, so
 * the doc always names the models the server really calls.
 */
export interface CatalogEntry {
  /** Key in `createAiClient({ providers })`, named by the policy's chains. */
  key: string;
  capability: Capability;
  /** The adapter from @korean-together/providers that builds it. */
  adapter: 'googleStt' | 'whisperStt' | 'googleTts' | 'httpTts' | 'geminiEvaluator' | 'geminiVertexEvaluator' | 'openaiEvaluator';
  /** Model or voice sent to the provider. */
  model: string;
  /** The modelId on usage rows, priced by the price table. */
  modelId: string;
  /** Who runs it, in plain words. */
  label: string;
}

export const PROVIDER_CATALOG: readonly CatalogEntry[] = [
  { key: 'google-stt', capability: 'stt', adapter: 'googleStt', model: 'default', modelId: 'google-stt/default', label: 'Google Cloud Speech-to-Text (gRPC)' },
  { key: 'whisper', capability: 'stt', adapter: 'whisperStt', model: 'whisper-1', modelId: 'whisper-1', label: 'OpenAI Whisper (HTTP)' },
  { key: 'google-tts', capability: 'tts', adapter: 'googleTts', model: 'ko-KR-Wavenet-A', modelId: 'ko-KR-Wavenet-A', label: 'Google Cloud Text-to-Speech, WaveNet voice (gRPC)' },
  { key: 'openai-tts', capability: 'tts', adapter: 'httpTts', model: 'tts-1', modelId: 'tts-1', label: 'OpenAI speech API (HTTP)' },
  { key: 'flash', capability: 'eval', adapter: 'geminiEvaluator', model: 'gemini-2.5-flash', modelId: 'gemini-2.5-flash', label: 'Google Gemini 2.5 Flash' },
  { key: 'pro', capability: 'eval', adapter: 'geminiEvaluator', model: 'gemini-2.5-pro', modelId: 'gemini-2.5-pro', label: 'Google Gemini 2.5 Pro' },
  { key: 'flash-vertex', capability: 'eval', adapter: 'geminiVertexEvaluator', model: 'gemini-2.5-flash', modelId: 'gemini-2.5-flash', label: 'Google Gemini 2.5 Flash on Vertex AI' },
  { key: 'gpt-4.1-mini', capability: 'eval', adapter: 'openaiEvaluator', model: 'gpt-4.1-mini', modelId: 'gpt-4.1-mini', label: 'OpenAI GPT-4.1 mini (Chat Completions)' },
];

/** The catalog entry for a chain key; throws naming the key when the catalog has none. */
export function catalogEntry(key: string): CatalogEntry {
  const entry = PROVIDER_CATALOG.find((e) => e.key === key);
  if (!entry) throw new Error(`provider catalog: no provider with key '${key}' (known: ${PROVIDER_CATALOG.map((e) => e.key).join(', ')})`);
  return entry;
}
