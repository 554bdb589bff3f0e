import { audioDurationMs } from '../audio/audio-info.js';
import type { UsageUnits } from '../pricing/cost.js';
import type { Capability, EvalRequest, SttRequest, TtsRequest } from '../spec/types.js';
import type { CapabilityDescriptor } from './descriptor.js';
import { evalCapability, evalWorstCase } from './eval.js';
import { sttCapability, sttWorstCase } from './stt.js';
import { ttsCapability, ttsWorstCase } from './tts.js';

/** Every capability's descriptor, by name. */
export const CAPABILITY_DESCRIPTORS: Readonly<Record<Capability, CapabilityDescriptor>> = {
  stt: sttCapability as CapabilityDescriptor,
  tts: ttsCapability as CapabilityDescriptor,
  eval: evalCapability as CapabilityDescriptor,
};

/**
 * The most a single attempt of this request can bill, in the price table's units (what the
 * budget reserves per attempt). For tests and tools that size budgets; the client asks the
 * capability's descriptor.
 */
export function worstCaseUnits(capability: Capability, req: unknown, maxOutputTokens: number, passMark: number): UsageUnits {
  switch (capability) {
    case 'eval':
      return evalWorstCase(req as EvalRequest, passMark, maxOutputTokens);
    case 'stt': {
      const r = req as SttRequest;
      return sttWorstCase(r, audioDurationMs(r.audio, r.encoding, r.sampleRateHertz));
    }
    case 'tts':
      return ttsWorstCase(req as TtsRequest);
  }
}
