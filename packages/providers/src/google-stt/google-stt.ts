import { SpeechClient, v2 as speechV2, type protos } from '@google-cloud/speech';
import type { AttemptContext, SttProvider, SttProviderResult, SttProviderStream, SttRequest, SttStreamingCapable, SttStreamRequest } from '@korean-together/core';
import { GOOGLE_SYNC_STT_LIMITS, invalidRequest, parseWav, validateSttRequest } from '@korean-together/core/provider-kit';
import { AttemptScope } from '../shared/attempt-scope.js';
import { mapSpeechError } from './errors.js';
import { recognizeStream } from './google-stt-stream.js';
import { recognizeStreamV2, transcribeV2, v2ClientOptions, v2Settings, type SpeechV2Client, type V2Settings } from './google-stt-v2.js';
import { GOOGLE_STT_DEFAULTS, type GoogleSttOptions } from './options.js';

const PROVIDER = 'google-stt';
type RecognizeRequest = protos.google.cloud.speech.v1.IRecognizeRequest;
type RecognizeResponse = protos.google.cloud.speech.v1.IRecognizeResponse;
type Duration = protos.google.protobuf.IDuration;

/** Opus always decodes at 48 kHz; Google requires a rate for OGG_OPUS. */
const OPUS_RATE = 48_000;

/** int64 seconds (a string with `longs: String`, a number or a Long) plus nanos, in ms. */
export function durationToMs(d: Duration | null | undefined): number | undefined {
  if (!d) return undefined;
  const raw = d.seconds as unknown;
  const seconds =
    typeof raw === 'string' ? Number(raw) : typeof raw === 'number' ? raw : raw && typeof (raw as { toNumber?: unknown }).toNumber === 'function' ? (raw as { toNumber(): number }).toNumber() : 0;
  const ms = seconds * 1000 + (d.nanos ?? 0) / 1e6;
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

/**
 * An `SttProvider` on Google Cloud Speech-to-Text: v1 synchronous `Recognize` and
 * `StreamingRecognize`, or with `api: 'v2'` v2 `StreamingRecognize` (Chirp 2) for both.
 */
export class GoogleStt implements SttProvider, SttStreamingCapable {
  readonly capability = 'stt' as const;
  readonly name = PROVIDER;
  readonly modelId: string;
  private readonly client: SpeechClient | undefined;
  private readonly v2: { client: SpeechV2Client; settings: V2Settings } | undefined;
  private readonly secrets: (string | undefined)[];

  constructor(private readonly options: GoogleSttOptions = {}) {
    this.secrets = [options.clientOptions?.apiKey];
    const api = options.api ?? 'v1';
    if (api === 'v2') {
      const settings = v2Settings(options, PROVIDER);
      this.modelId = settings.model;
      this.v2 = { client: new speechV2.SpeechClient(v2ClientOptions(options, settings.location)), settings };
      return;
    }
    if (api !== 'v1') throw invalidRequest(`${PROVIDER} options`, 'api', `must be 'v1' or 'v2', got '${String(api).slice(0, 20)}'`, PROVIDER);
    for (const field of ['project', 'location', 'recognizer'] as const) {
      if (options[field] !== undefined) throw invalidRequest(`${PROVIDER} options`, field, "applies to api 'v2' only: set api: 'v2'", PROVIDER);
    }
    this.modelId = `google-stt/${options.model ?? 'default'}`;
    this.client = new SpeechClient(options.clientOptions);
  }

  async transcribe(req: SttRequest, ctx: AttemptContext): Promise<SttProviderResult> {
    if (this.v2) return transcribeV2(this.v2.client, this.v2.settings, this.options, req, ctx, PROVIDER, this.secrets);
    const facts = validateSttRequest(req, { who: PROVIDER, provider: PROVIDER, limits: GOOGLE_SYNC_STT_LIMITS });
    const request = this.buildRequest(req);
    const scope = new AttemptScope(ctx);
    let response: RecognizeResponse;
    try {
      scope.throwIfAborted(PROVIDER, 'Recognize');
      // retry: null turns off google-gax's own retries (UNAVAILABLE, DEADLINE_EXCEEDED for up to
      // 5,000 s); the timeout is what is left of this attempt; the signal cancels the call.
      [response] = await this.client!.recognize(request, { retry: null, timeout: Math.max(1, scope.msLeft()), signal: scope.signal });
    } catch (err) {
      throw mapSpeechError(err, scope, PROVIDER, this.secrets);
    } finally {
      scope.dispose();
    }
    const results = response.results ?? [];
    const top = results.map((r) => r.alternatives?.[0]).filter((a) => a != null);
    const transcript = top
      .map((a) => (a.transcript ?? '').trim())
      .filter((t) => t !== '')
      .join(' ');
    // Google reports 0 when it has no confidence for a result; average the real ones.
    const confidences = top.map((a) => a.confidence ?? 0).filter((c) => c > 0);
    const confidence = confidences.length ? confidences.reduce((s, c) => s + c, 0) / confidences.length : undefined;
    const audioDurationMs = durationToMs(response.totalBilledTime) ?? facts.durationMs ?? 0;
    return { transcript, audioDurationMs, ...(confidence !== undefined && { confidence }) };
  }

  /** Recognition while the audio is spoken, on StreamingRecognize (google-stt-stream.ts, v2: google-stt-v2.ts). */
  transcribeStream(audio: AsyncIterable<Uint8Array>, req: SttStreamRequest, ctx: AttemptContext): SttProviderStream {
    if (this.v2) return recognizeStreamV2(this.v2.client, this.v2.settings, this.options, audio, req, ctx, PROVIDER, this.secrets);
    return recognizeStream(this.client!, this.options, audio, req, ctx, PROVIDER, this.secrets);
  }

  private buildRequest(req: SttRequest): RecognizeRequest {
    let sampleRateHertz = req.sampleRateHertz;
    let audioChannelCount: number | undefined;
    if (req.encoding === 'LINEAR16') {
      const wav = parseWav(req.audio);
      if (wav) {
        if (wav.format !== 1 || wav.bitsPerSample !== 16) {
          throw invalidRequest(PROVIDER, 'audio', `must be 16-bit PCM for LINEAR16, got a WAV file with format ${wav.format} / ${wav.bitsPerSample} bit`, PROVIDER);
        }
        sampleRateHertz ??= wav.sampleRate;
        if (wav.channels > 1) audioChannelCount = wav.channels;
      } else if (sampleRateHertz === undefined) {
        throw invalidRequest(PROVIDER, 'sampleRateHertz', 'required for LINEAR16 audio without a WAV header', PROVIDER);
      }
    }
    if (req.encoding === 'OGG_OPUS') sampleRateHertz ??= OPUS_RATE;
    return {
      config: {
        encoding: req.encoding,
        languageCode: req.languageCode ?? this.options.languageCode ?? GOOGLE_STT_DEFAULTS.languageCode,
        ...(sampleRateHertz !== undefined && { sampleRateHertz }),
        ...(audioChannelCount !== undefined && { audioChannelCount }),
        ...(this.options.model !== undefined && { model: this.options.model }),
        ...(this.options.enableAutomaticPunctuation !== undefined && { enableAutomaticPunctuation: this.options.enableAutomaticPunctuation }),
      },
      audio: { content: req.audio },
    };
  }

  /** Closes the client's gRPC channel. */
  async close(): Promise<void> {
    await (this.v2?.client ?? this.client)?.close();
  }
}

/**
 * Korean speech recognition on Google Cloud Speech-to-Text v1: synchronous Recognize (up to
 * 60 s / 10 MB) and StreamingRecognize (`transcribeStream`, any length: a new stream every
 * ~5 minutes); with `api: 'v2'`, v2 StreamingRecognize with Chirp 2 through a recognizer in
 * `location` (default us-central1). google-gax retries are off; the policy retries.
 */
export function googleStt(options: GoogleSttOptions = {}): GoogleStt {
  return new GoogleStt(options);
}
