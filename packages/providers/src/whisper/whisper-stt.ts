import { AiError, type AttemptContext, type AudioEncoding, type SttProvider, type SttProviderResult, type SttRequest } from '@korean-together/core';
import { AttemptScope } from '../shared/attempt-scope.js';
import { envKeyFor, fetchOk, openAiUrl, readText } from '../shared/http.js';
import { invalidRequest, validateSttRequest, WHISPER_STT_LIMITS } from '../shared/validate.js';
import { buildWav, isWav, pcm16Fmt } from '@korean-together/core';
import { whisperCallInfo } from './errors.js';
import { WHISPER_DEFAULTS, type WhisperSttOptions } from './options.js';

const PROVIDER = 'whisper';

const FILE_TYPES: Record<AudioEncoding, { mime: string; ext: string }> = {
  LINEAR16: { mime: 'audio/wav', ext: 'wav' },
  FLAC: { mime: 'audio/flac', ext: 'flac' },
  MP3: { mime: 'audio/mpeg', ext: 'mp3' },
  OGG_OPUS: { mime: 'audio/ogg', ext: 'ogg' },
  WEBM_OPUS: { mime: 'audio/webm', ext: 'webm' },
};

interface VerboseTranscription {
  text?: unknown;
  /** Seconds of audio (verbose_json). */
  duration?: unknown;
}

/** An `SttProvider` on an OpenAI-compatible `POST /v1/audio/transcriptions` endpoint. */
export class WhisperStt implements SttProvider {
  readonly capability = 'stt' as const;
  readonly name = PROVIDER;
  readonly modelId: string;
  private readonly model: string;
  private readonly url: string;
  private readonly apiKey: string | undefined;

  constructor(private readonly options: WhisperSttOptions = {}) {
    this.model = options.model ?? WHISPER_DEFAULTS.model;
    this.modelId = options.modelId ?? this.model;
    const baseUrl = options.baseUrl ?? WHISPER_DEFAULTS.baseUrl;
    this.url = openAiUrl(baseUrl, 'v1/audio/transcriptions');
    this.apiKey = options.apiKey ?? envKeyFor(baseUrl);
  }

  async transcribe(req: SttRequest, ctx: AttemptContext): Promise<SttProviderResult> {
    const facts = validateSttRequest(PROVIDER, req, WHISPER_STT_LIMITS);
    const form = this.buildForm(req);
    const info = whisperCallInfo(PROVIDER, this.apiKey);
    const scope = new AttemptScope(ctx);
    let body: string;
    try {
      const res = await fetchOk(this.url, { method: 'POST', body: form, headers: this.headers() }, scope, info);
      body = await readText(res, scope, info);
    } finally {
      scope.dispose();
    }
    let parsed: VerboseTranscription;
    try {
      parsed = JSON.parse(body) as VerboseTranscription;
    } catch {
      throw new AiError('unavailable', `${PROVIDER}: transcription returned a body that is not JSON (${body.length} characters)`, { provider: PROVIDER, retryable: true });
    }
    if (!parsed || typeof parsed.text !== 'string') {
      throw new AiError('unavailable', `${PROVIDER}: transcription returned JSON without a text field`, { provider: PROVIDER, retryable: true });
    }
    const reported = typeof parsed.duration === 'number' && Number.isFinite(parsed.duration) ? Math.round(parsed.duration * 1000) : undefined;
    return { transcript: parsed.text.trim(), audioDurationMs: reported ?? facts.durationMs ?? 0 };
  }

  private headers(): Record<string, string> {
    return { ...this.options.headers, ...(this.apiKey && { authorization: `Bearer ${this.apiKey}` }) };
  }

  private buildForm(req: SttRequest): FormData {
    let audio = req.audio;
    // Whisper reads containers, not raw samples: give headerless LINEAR16 a WAV header.
    if (req.encoding === 'LINEAR16' && !isWav(audio)) {
      if (req.sampleRateHertz === undefined) throw invalidRequest(PROVIDER, 'sampleRateHertz', 'is required for LINEAR16 audio without a WAV header');
      audio = buildWav(pcm16Fmt(req.sampleRateHertz), audio);
    }
    const type = FILE_TYPES[req.encoding];
    const form = new FormData();
    form.append('file', new Blob([audio as Uint8Array<ArrayBuffer>], { type: type.mime }), `audio.${type.ext}`);
    form.append('model', this.model);
    form.append('response_format', 'verbose_json');
    const language = req.languageCode?.split('-')[0]?.toLowerCase() ?? this.options.language ?? WHISPER_DEFAULTS.language;
    form.append('language', language);
    if (this.options.temperature !== undefined) form.append('temperature', String(this.options.temperature));
    return form;
  }
}

/**
 * Speech recognition on OpenAI Whisper (`whisper-1`) or any OpenAI-compatible server
 * (faster-whisper). Duration comes from `verbose_json`, else from the audio header.
 */
export function whisperStt(options: WhisperSttOptions = {}): WhisperStt {
  return new WhisperStt(options);
}
