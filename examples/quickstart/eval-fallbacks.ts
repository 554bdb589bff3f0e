import type { Provider } from '@korean-together/core';
import { geminiEvaluator, openaiEvaluator } from '@korean-together/providers';
import type { Emulators } from '@korean-together/providers/emulators';

/**
 * The eval chain's second and third vendors, by the keys the policy file names: Gemini Flash on
 * Vertex AI (its own endpoint, quota and Google Cloud credentials) and GPT-4.1 mini on OpenAI.
 * Only keys the given providers lack are added, so a host app's own wiring always wins.
 */
export function evalFallbacks(existing: Record<string, Provider>, emu: Emulators | undefined): Record<string, Provider> {
  const extra: Record<string, Provider> = {};
  if (!('flash-vertex' in existing)) {
    extra['flash-vertex'] = emu
      ? geminiEvaluator({
          model: 'gemini-2.5-flash',
          // Vertex AI express mode (an API key, which the emulator accepts): no Google account needed.
          vertex: { apiKey: 'emulator' },
          httpOptions: emu.vertex.httpOptions,
        })
      : // Real Vertex AI: GOOGLE_CLOUD_PROJECT (and GOOGLE_CLOUD_LOCATION) with Application Default Credentials.
        geminiEvaluator({ model: 'gemini-2.5-flash', vertex: {} });
  }
  if (!('gpt-4.1-mini' in existing)) {
    extra['gpt-4.1-mini'] = emu
      ? openaiEvaluator({ model: 'gpt-4.1-mini', baseUrl: emu.openai.baseUrl, apiKey: 'emulator', name: 'openai' })
      : openaiEvaluator({ model: 'gpt-4.1-mini' });
  }
  return extra;
}
