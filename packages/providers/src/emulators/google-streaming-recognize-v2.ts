// google.cloud.speech.v2.Speech/StreamingRecognize: the same recognition as v1's
// (google-streaming-recognize.ts) in v2's shapes. The first request names a `recognizer`
// (`projects/P/locations/L/recognizers/R`, `_` for none) and carries `streaming_config { config {
// explicit_decoding_config | auto_decoding_config, model, language_codes }, streaming_features {
// interim_results } }`; later ones `audio`. Results end at `result_end_offset`; the billed time is
// `metadata.total_billed_duration`. `chirp_2` and `chirp_3` serve regional locations only, as Google.

import { duration } from './google-grpc-status.js';
import type { Config, RecognizeDialect } from './google-streaming-recognize.js';

type AnyObject = Record<string, unknown>;

const RECOGNIZER = /^projects\/[^/]+\/locations\/([^/]+)\/recognizers\/[^/]+$/;
/** Models Google does not serve from the `global` location. */
const REGIONAL_MODELS = new Set(['chirp_2', 'chirp_3']);

/** The model a v2 request names (for fault rules and hit counts), 'default' when none. */
export function v2ModelOf(first: AnyObject): string {
  const config = (first.streamingConfig as AnyObject | undefined)?.config as AnyObject | undefined;
  return typeof config?.model === 'string' && config.model ? config.model : 'default';
}

function readV2Config(req: AnyObject): Config | string {
  const recognizer = typeof req.recognizer === 'string' ? req.recognizer : '';
  const m = RECOGNIZER.exec(recognizer);
  if (!m) return `Invalid resource field value in the request: recognizer must be projects/{project}/locations/{location}/recognizers/{recognizer} (got '${recognizer.slice(0, 80)}').`;
  const sc = req.streamingConfig as AnyObject;
  const config = sc.config as AnyObject | undefined;
  if (!config) return 'Invalid streaming_config: config is required.';
  const model = typeof config.model === 'string' ? config.model : '';
  if (REGIONAL_MODELS.has(model) && m[1] === 'global') return `The model "${model}" does not exist in the location named "global".`;
  const languages = Array.isArray(config.languageCodes) ? (config.languageCodes as unknown[]).filter((l): l is string => typeof l === 'string' && l !== '') : [];
  if (languages.length === 0) return 'Invalid RecognitionConfig: language_codes must name at least one language.';
  const explicit = config.decodingConfig === 'explicitDecodingConfig' ? (config.explicitDecodingConfig as AnyObject) : undefined;
  if (!explicit && config.decodingConfig !== 'autoDecodingConfig') return 'Invalid RecognitionConfig: set explicit_decoding_config or auto_decoding_config.';
  const encoding = explicit && typeof explicit.encoding === 'string' ? explicit.encoding : 'ENCODING_UNSPECIFIED';
  const rate = explicit && typeof explicit.sampleRateHertz === 'number' && explicit.sampleRateHertz > 0 ? explicit.sampleRateHertz : undefined;
  if (explicit && encoding === 'LINEAR16' && !rate) return 'Invalid explicit_decoding_config: sample_rate_hertz is required for LINEAR16.';
  if (rate !== undefined && (rate < 8000 || rate > 48_000)) return `Invalid explicit_decoding_config: sample_rate_hertz must be within 8000..48000 (got ${rate}).`;
  const features = (sc.streamingFeatures ?? {}) as AnyObject;
  return { languageCode: languages[0]!, encoding, ...(rate && { sampleRateHertz: rate }), interimResults: features.interimResults === true, singleUtterance: false };
}

export function speechV2Dialect(): RecognizeDialect {
  return {
    config: (req) => (req.streamingRequest === 'streamingConfig' || req.streamingConfig ? readV2Config(req) : undefined),
    audio: (req) => req.audio as Buffer | undefined,
    resultFields: (endMs, languageCode) => ({ resultEndOffset: duration(endMs), languageCode: languageCode.toLowerCase() }),
    billedFields: (billed) => ({ metadata: { totalBilledDuration: billed } }),
    common: {},
  };
}
