import { AiError, type AttemptContext, type AudioEncoding, type SttProvider, type SttProviderResult, type SttRequest } from '@korean-together/core';
import { buildWav, invalidRequest, isWav, pcm16Fmt, validateSttRequest, WHISPER_STT_LIMITS } from '@korean-together/core/provider-kit';
import { AttemptScope } from '../shared/attempt-scope.js';
import { envKeyFor, fetchOk, openAiUrl, readText } from '../shared/http.js';
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

interface Transcription {
  text?: unknown;
  /** Seconds of audio (verbose_json). */
  duration?: unknown;
  /**
   * What OpenAI billed: `{ type: 'duration', seconds }` (whole seconds, whisper-1) or
   * `{ type: 'tokens', input_tokens, output_tokens, input_token_details: { audio_tokens, text_tokens } }`
   * (gpt-4o-transcribe, gpt-4o-mini-transcribe). Self-hosted servers usually send none.
   */
  usage?: unknown;
}

/** A transcription result with the token usage of token-billed models (gpt-4o-transcribe). */
export interface WhisperSttResult extends SttProviderResult {
  /** Every input token billed, audio included (`usage.input_tokens`). */
  tokensIn?: number;
  /** The audio part of tokensIn (`usage.input_token_details.audio_tokens`), priced apart. */
  audioTokensIn?: number;
  /** Output (transcript) tokens billed (`usage.output_tokens`). */
  tokensOut?: number;
}

/** OpenAI's GPT-4o transcription models (and their dated snapshots) take only response_format json. */
export function jsonOnlyModel(model: string): boolean {
  return /^gpt-4o(-mini)?-transcribe\b/.test(model);
}

const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);

/** Reads `usage` as billed units: whole billed seconds, or tokens. Anything else is ignored. */
function billedUsage(usage: unknown): { billedMs?: number; tokensIn?: number; audioTokensIn?: number; tokensOut?: number } {
  if (!usage || typeof usage !== 'object') return {};
  const u = usage as { type?: unknown; seconds?: unknown; input_tokens?: unknown; output_tokens?: unknown; input_token_details?: { audio_tokens?: unknown } };
  if (u.type === 'duration') {
    const seconds = typeof u.seconds === 'number' && Number.isFinite(u.seconds) && u.seconds >= 0 ? u.seconds : undefined;
    return seconds === undefined ? {} : { billedMs: Math.round(seconds * 1000) };
  }
  if (u.type === 'tokens') {
    const tokensIn = count(u.input_tokens);
    const tokensOut = count(u.output_tokens);
    const audio = count(u.input_token_details?.audio_tokens);
    return {
      ...(tokensIn !== undefined && { tokensIn }),
      ...(audio !== undefined && { audioTokensIn: tokensIn === undefined ? audio : Math.min(audio, tokensIn) }),
      ...(tokensOut !== undefined && { tokensOut }),
    };
  }
  return {};
}

/** An `SttProvider` on an OpenAI-compatible `POST /v1/audio/transcriptions` endpoint. */
export class WhisperStt implements SttProvider {
  readonly capability = 'stt' as const;
  readonly name = PROVIDER;
  readonly modelId: string;
  private readonly model: string;
  private readonly url: string;
  private readonly apiKey: string | undefined;
  private readonly responseFormat: 'json' | 'verbose_json';

  constructor(private readonly options: WhisperSttOptions = {}) {
    this.model = options.model ?? WHISPER_DEFAULTS.model;
    const format = options.responseFormat ?? (jsonOnlyModel(this.model) ? 'json' : 'verbose_json');
    if (format !== 'json' && format !== 'verbose_json') {
      throw new AiError('invalid_config', `whisperStt: responseFormat must be 'json' or 'verbose_json', got ${JSON.stringify(format)}`, { provider: PROVIDER, retryable: false });
    }
    this.responseFormat = format;
    this.modelId = options.modelId ?? this.model;
    const baseUrl = options.baseUrl ?? WHISPER_DEFAULTS.baseUrl;
    this.url = openAiUrl(baseUrl, 'v1/audio/transcriptions');
    this.apiKey = options.apiKey ?? envKeyFor(baseUrl);
  }

  async transcribe(req: SttRequest, ctx: AttemptContext): Promise<WhisperSttResult> {
    const facts = validateSttRequest(req, { who: PROVIDER, provider: PROVIDER, limits: WHISPER_STT_LIMITS });
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
    let parsed: Transcription;
    try {
      parsed = JSON.parse(body) as Transcription;
    } catch {
      throw new AiError('unavailable', `${PROVIDER}: transcription returned a body that is not JSON (${body.length} characters)`, { provider: PROVIDER, retryable: true });
    }
    if (!parsed || typeof parsed.text !== 'string') {
      throw new AiError('unavailable', `${PROVIDER}: transcription returned JSON without a text field`, { provider: PROVIDER, retryable: true });
    }
    // Bill what the provider says it billed (usage.seconds: 9 beside duration: 8.47); without
    // usage, the reported duration, else the audio header's.
    const billed = billedUsage(parsed.usage);
    const reported = typeof parsed.duration === 'number' && Number.isFinite(parsed.duration) ? Math.round(parsed.duration * 1000) : undefined;
    return {
      transcript: parsed.text.trim(),
      audioDurationMs: billed.billedMs ?? reported ?? facts.durationMs ?? 0,
      ...(billed.tokensIn !== undefined && { tokensIn: billed.tokensIn }),
      ...(billed.audioTokensIn !== undefined && { audioTokensIn: billed.audioTokensIn }),
      ...(billed.tokensOut !== undefined && { tokensOut: billed.tokensOut }),
    };
  }

  private headers(): Record<string, string> {
    return { ...this.options.headers, ...(this.apiKey && { authorization: `Bearer ${this.apiKey}` }) };
  }

  private buildForm(req: SttRequest): FormData {
    let audio = req.audio;
    // Whisper reads containers, not raw samples: give headerless LINEAR16 a WAV header.
    if (req.encoding === 'LINEAR16' && !isWav(audio)) {
      if (req.sampleRateHertz === undefined) throw invalidRequest(PROVIDER, 'sampleRateHertz', 'required for LINEAR16 audio without a WAV header', PROVIDER);
      audio = buildWav(pcm16Fmt(req.sampleRateHertz), audio);
    }
    const type = FILE_TYPES[req.encoding];
    const form = new FormData();
    form.append('file', new Blob([audio as Uint8Array<ArrayBuffer>], { type: type.mime }), `audio.${type.ext}`);
    form.append('model', this.model);
    form.append('response_format', this.responseFormat);
    const language = req.languageCode?.split('-')[0]?.toLowerCase() ?? this.options.language ?? WHISPER_DEFAULTS.language;
    form.append('language', language);
    if (this.options.temperature !== undefined) form.append('temperature', String(this.options.temperature));
    return form;
  }
}

/**
 * Speech recognition on OpenAI (`whisper-1`, `gpt-4o-transcribe`, `gpt-4o-mini-transcribe`) or
 * any OpenAI-compatible server (faster-whisper). Billed units come from the response's `usage`
 * (seconds or tokens), else from the `verbose_json` duration, else from the audio header.
 */
export function whisperStt(options: WhisperSttOptions = {}): WhisperStt {
  return new WhisperStt(options);
}
