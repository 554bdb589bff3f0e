import type { UsageUnits } from '../pricing/cost.js';
import { requestError } from '../requests/invalid-request.js';
import { validateTtsRequest } from '../requests/tts-request.js';
import { OPERATIONS, type ResultMeta, type TtsProvider, type TtsProviderResult, type TtsRequest, type TtsResult } from '../spec/types.js';
import type { CapabilityDescriptor } from './descriptor.js';

/** The most one synthesis attempt can bill: its characters, counted in code points (Google and OpenAI bill characters, not UTF-16 units). */
export function ttsWorstCase(req: TtsRequest): UsageUnits {
  let characters = 0;
  for (const _ of req.text) characters++;
  return { characters, requests: 1 };
}

/** Text to speech: `client.tts.synthesize`. */
export const ttsCapability: CapabilityDescriptor<TtsRequest, undefined, TtsProviderResult, undefined, TtsResult> = {
  capability: 'tts',
  operation: OPERATIONS.tts,
  validate(req, env) {
    validateTtsRequest(req, { maxTextBytes: env.policy.capabilities.tts.maxTextBytes });
    // A request can choose what it is priced as (a voice): refuse a model the price table does
    // not know before anything is spent, as createAiClient does for providers' defaults.
    for (const { key, provider } of env.chain) {
      const p = provider as TtsProvider;
      if (!p.modelIdFor) continue;
      const modelId = p.modelIdFor(req as TtsRequest);
      if (modelId !== p.modelId && env.pricer.planFor('tts', modelId).rows.length === 0) {
        throw requestError(OPERATIONS.tts, [`voice: no price for '${modelId}' (provider ${key}) in price table ${env.pricer.table.version}; add a row with pricing.rows`]);
      }
    }
    return undefined;
  },
  modelIdFor: (provider, req) => {
    const p = provider as TtsProvider;
    return p.modelIdFor ? p.modelIdFor(req) : p.modelId;
  },
  invoke: (provider, req, ctx) => (provider as TtsProvider).synthesize(req, ctx),
  check: () => undefined,
  units: (r) => ({ characters: r.characters, audioDurationMs: r.audioDurationMs, requests: r.requests ?? 1 }),
  worstCase: (req) => ttsWorstCase(req),
  result(r, _checked, meta: ResultMeta): TtsResult {
    const out: TtsResult = { audio: r.audio, encoding: r.encoding, characters: r.characters, meta };
    if (r.audioDurationMs !== undefined) out.audioDurationMs = r.audioDurationMs;
    return out;
  },
};
