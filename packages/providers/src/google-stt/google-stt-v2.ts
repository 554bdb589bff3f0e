// Google Speech-to-Text v2 for `googleStt({ api: 'v2' })`: StreamingRecognize through a
// recognizer (`projects/P/locations/L/recognizers/_`, the config in the first request), Chirp 2
// for ko-KR by default, on the regional endpoint `{location}-speech.googleapis.com`. It runs on
// the loop v1 uses (stream-loop.ts); one-shot `transcribe` sends the clip on one stream.
import { v2, type protos } from '@google-cloud/speech';
import type { AttemptContext, SttProviderResult, SttProviderStream, SttRequest, SttStreamEvent, SttStreamRequest } from '@korean-together/core';
import { GOOGLE_SYNC_STT_LIMITS, invalidRequest, parseWav, validateSttRequest } from '@korean-together/core/provider-kit';
import { durationToMs } from './google-stt.js';
import { GOOGLE_STT_DEFAULTS, type GoogleSttOptions, type SpeechClientOptions } from './options.js';
import { resultEvents, runRecognizeStream, STREAMING_MAX_STREAM_AUDIO_MS, type RecognizeDuplex, type RecognizeWire } from './stream-loop.js';

export type SpeechV2Client = InstanceType<typeof v2.SpeechClient>;
type StreamingResponse = protos.google.cloud.speech.v2.IStreamingRecognizeResponse;
type StreamingConfig = protos.google.cloud.speech.v2.IStreamingRecognitionConfig;

/** What `api: 'v2'` uses when an option is unset. */
export const GOOGLE_STT_V2_DEFAULTS = { location: 'us-central1', model: 'chirp_2' } as const;
/** Models Google serves from regional locations only (not `global`). */
const REGIONAL_MODELS = new Set(['chirp_2', 'chirp_3']);
const RECOGNIZER = /^projects\/([^/]+)\/locations\/([a-z0-9-]+)\/recognizers\/([^/]+)$/;
const LOCATION = /^[a-z][a-z0-9-]*$/;
const OPUS_RATE = 48_000;

/** The recognizer, location and model a v2 adapter sends, checked. */
export interface V2Settings {
  recognizer: string;
  location: string;
  model: string;
}

/** Reads and checks the v2 options; the error names the bad field. */
export function v2Settings(options: GoogleSttOptions, provider: string): V2Settings {
  const bad = (field: string, problem: string) => invalidRequest(`${provider} options`, field, problem, provider);
  const model = options.model ?? GOOGLE_STT_V2_DEFAULTS.model;
  if (typeof model !== 'string' || model.trim() === '') throw bad('model', "must be a v2 model name such as 'chirp_2'");
  let location: string;
  let recognizer: string;
  if (options.recognizer !== undefined) {
    const m = RECOGNIZER.exec(options.recognizer);
    if (!m) throw bad('recognizer', `must be projects/{project}/locations/{location}/recognizers/{id} ('_' for none), got '${String(options.recognizer).slice(0, 80)}'`);
    location = m[2]!;
    if (options.location !== undefined && options.location !== location) throw bad('location', `'${options.location}' differs from the recognizer's location '${location}'`);
    recognizer = options.recognizer;
  } else {
    location = options.location ?? GOOGLE_STT_V2_DEFAULTS.location;
    if (typeof location !== 'string' || !LOCATION.test(location)) throw bad('location', `must be a Google Cloud location such as 'us-central1', got '${String(location).slice(0, 40)}'`);
    const project = options.project ?? (options.clientOptions as { projectId?: string } | undefined)?.projectId;
    if (typeof project !== 'string' || project === '') throw bad('project', "required for api 'v2' (or set recognizer, or clientOptions.projectId)");
    recognizer = `projects/${project}/locations/${location}/recognizers/_`;
  }
  if (REGIONAL_MODELS.has(model) && location === 'global') throw bad('location', `'global' does not serve ${model}: use a regional location such as 'us-central1'`);
  return { recognizer, location, model };
}

/** The client options for `new v2.SpeechClient`: the regional endpoint unless the caller names one. */
export function v2ClientOptions(options: GoogleSttOptions, location: string): SpeechClientOptions {
  const apiEndpoint = location === 'global' ? 'speech.googleapis.com' : `${location}-speech.googleapis.com`;
  return { apiEndpoint, ...options.clientOptions };
}

/** The streaming_config of every stream of one request; `autoDecode` for audio in a container. */
export function v2StreamingConfig(req: SttStreamRequest, options: GoogleSttOptions, model: string, autoDecode = req.encoding !== 'LINEAR16'): StreamingConfig {
  const sampleRateHertz = req.sampleRateHertz ?? (req.encoding === 'OGG_OPUS' || req.encoding === 'WEBM_OPUS' ? OPUS_RATE : undefined);
  return {
    config: {
      // Headerless PCM must be described; FLAC, MP3, Ogg / WebM Opus and WAV describe themselves.
      ...(autoDecode ? { autoDecodingConfig: {} } : { explicitDecodingConfig: { encoding: 'LINEAR16', ...(sampleRateHertz !== undefined && { sampleRateHertz }), audioChannelCount: 1 } }),
      model,
      languageCodes: [req.languageCode ?? options.languageCode ?? GOOGLE_STT_DEFAULTS.languageCode],
      ...(options.enableAutomaticPunctuation !== undefined && { features: { enableAutomaticPunctuation: options.enableAutomaticPunctuation } }),
    },
    streamingFeatures: {
      interimResults: req.interimResults ?? true,
      // v2 has no single_utterance: voice activity events tell the adapter when speech ended.
      ...(req.singleUtterance && { enableVoiceActivityEvents: true }),
    },
  };
}

/**
 * One attempt's recognition on v2 StreamingRecognize. `singleUtterance` (which v2 lacks) half-
 * closes the stream at the first final result or SPEECH_ACTIVITY_END. `usage`: the
 * metadata.total_billed_duration of each stream, else the audio it was sent.
 */
export function recognizeStreamV2(client: SpeechV2Client, settings: V2Settings, options: GoogleSttOptions, audio: AsyncIterable<Uint8Array>, req: SttStreamRequest, ctx: AttemptContext, provider: string, secrets: readonly (string | undefined)[], autoDecode?: boolean): SttProviderStream {
  const wire: RecognizeWire<StreamingResponse> = {
    what: 'v2 StreamingRecognize',
    open: (timeout) => (client as unknown as { _streamingRecognize(o: object): RecognizeDuplex<StreamingResponse> })._streamingRecognize({ retry: null, timeout }),
    first: { recognizer: settings.recognizer, streamingConfig: v2StreamingConfig(req, options, settings.model, autoDecode) },
    audio: (chunk) => ({ audio: chunk }),
    events: (res, offsetMs) => resultEvents(res.results, offsetMs, (r) => r.resultEndOffset),
    billedMs: (res) => durationToMs(res.metadata?.totalBilledDuration),
    utteranceOver: (res, evs) => req.singleUtterance === true && (evs.some((e) => e.type === 'final') || res.speechEventType === 'SPEECH_ACTIVITY_END' || (res.speechEventType as unknown) === 3),
  };
  return runRecognizeStream(wire, audio, req, ctx, { provider, secrets, maxStreamAudioMs: options.maxStreamAudioMs ?? STREAMING_MAX_STREAM_AUDIO_MS });
}

/** One-shot recognition on v2: the whole clip on one stream, no interim results, the finals joined. */
export async function transcribeV2(client: SpeechV2Client, settings: V2Settings, options: GoogleSttOptions, req: SttRequest, ctx: AttemptContext, provider: string, secrets: readonly (string | undefined)[]): Promise<SttProviderResult> {
  const facts = validateSttRequest(req, { who: provider, provider, limits: GOOGLE_SYNC_STT_LIMITS });
  const wav = req.encoding === 'LINEAR16' ? parseWav(req.audio) : undefined;
  if (req.encoding === 'LINEAR16' && !wav && req.sampleRateHertz === undefined) throw invalidRequest(provider, 'sampleRateHertz', 'required for LINEAR16 audio without a WAV header', provider);
  const streamReq: SttStreamRequest = {
    encoding: req.encoding,
    ...(!wav && req.sampleRateHertz !== undefined && { sampleRateHertz: req.sampleRateHertz }),
    ...(req.languageCode !== undefined && { languageCode: req.languageCode }),
    maxAudioMs: GOOGLE_SYNC_STT_LIMITS.maxDurationMs ?? 60_000,
    interimResults: false,
  };
  const clip = (async function* () {
    yield req.audio;
  })();
  const stream = recognizeStreamV2(client, settings, options, clip, streamReq, ctx, provider, secrets, req.encoding !== 'LINEAR16' || wav !== undefined);
  const finals: Extract<SttStreamEvent, { type: 'final' }>[] = [];
  for await (const ev of stream) if (ev.type === 'final') finals.push(ev);
  const transcript = finals
    .map((f) => f.transcript)
    .filter((t) => t !== '')
    .join(' ');
  const confidences = finals.map((f) => f.confidence ?? 0).filter((c) => c > 0);
  const confidence = confidences.length ? confidences.reduce((s, c) => s + c, 0) / confidences.length : undefined;
  const billed = (await stream.usage).audioDurationMs;
  return { transcript, audioDurationMs: billed || (facts.durationMs ?? 0), ...(confidence !== undefined && { confidence }) };
}
