import { AiError, type AttemptContext, type TtsAudioEncoding, type TtsProvider, type TtsProviderResult, type TtsRequest } from '@korean-together/core';
import { invalidRequest, validateTtsRequest } from '@korean-together/core/provider-kit';
import { AttemptScope } from '../shared/attempt-scope.js';
import { envKeyFor, fetchOk, openAiUrl, readBytes } from '../shared/http.js';
import { codePoints, splitText, TextTooLongError } from '../shared/text-split.js';
import { checkSynthesizedAudio, JOINABLE_ENCODINGS, synthesisResult, synthesizePieces } from '../shared/tts-audio.js';
import { httpTtsCallInfo } from './errors.js';
import { HTTP_TTS_DEFAULTS, type HttpTtsOptions } from './options.js';

const PROVIDER = 'http-tts';

const RESPONSE_FORMATS: Record<TtsAudioEncoding, string> = { MP3: 'mp3', LINEAR16: 'wav', OGG_OPUS: 'opus' };

/** A `TtsProvider` on an OpenAI-compatible `POST /v1/audio/speech` endpoint. */
export class HttpTts implements TtsProvider {
  readonly capability = 'tts' as const;
  readonly name = PROVIDER;
  readonly modelId: string;
  readonly cacheIdentity: string;
  private readonly model: string;
  private readonly url: string;
  private readonly apiKey: string | undefined;
  private readonly maxInputChars: number;

  constructor(private readonly options: HttpTtsOptions) {
    if (!options || typeof options.baseUrl !== 'string' || options.baseUrl === '') {
      throw new AiError('invalid_config', 'httpTts: baseUrl is required', { provider: PROVIDER, retryable: false });
    }
    this.model = options.model ?? HTTP_TTS_DEFAULTS.model;
    this.modelId = options.modelId ?? this.model;
    this.url = openAiUrl(options.baseUrl, 'v1/audio/speech');
    this.apiKey = options.apiKey ?? envKeyFor(options.baseUrl);
    // What changes the audio besides the request and the model priced: the cache keys it.
    this.cacheIdentity =
      options.cacheIdentity ?? JSON.stringify([this.url, this.model, options.voice ?? HTTP_TTS_DEFAULTS.voice, options.useRequestVoice === true, options.format ?? HTTP_TTS_DEFAULTS.format]);
    this.maxInputChars = options.maxInputChars ?? HTTP_TTS_DEFAULTS.maxInputChars;
    if (!Number.isInteger(this.maxInputChars) || this.maxInputChars < 1) {
      throw new AiError('invalid_config', `httpTts: maxInputChars must be a positive integer, got ${this.maxInputChars}`, { provider: PROVIDER, retryable: false });
    }
  }

  async synthesize(req: TtsRequest, ctx: AttemptContext): Promise<TtsProviderResult> {
    // Text above maxInputChars is split, so no maxTextBytes here (the policy's applies in the client).
    validateTtsRequest(req, { who: PROVIDER, provider: PROVIDER });
    const encoding: TtsAudioEncoding = req.audioEncoding ?? this.options.format ?? HTTP_TTS_DEFAULTS.format;
    const voice = (this.options.useRequestVoice && req.voice) || (this.options.voice ?? HTTP_TTS_DEFAULTS.voice);
    const pieces = this.pieces(req.text, encoding);
    const scope = new AttemptScope(ctx);
    const siblings = new AbortController();
    const signal = AbortSignal.any([scope.signal, siblings.signal]);
    try {
      scope.throwIfAborted(PROVIDER, 'speech synthesis');
      const audios = await synthesizePieces(
        pieces,
        this.options.maxConcurrentRequests ?? HTTP_TTS_DEFAULTS.maxConcurrentRequests,
        siblings,
        async (input, index) => {
          const info = httpTtsCallInfo(PROVIDER, this.apiKey, { index, count: pieces.length });
          const body = JSON.stringify({
            model: this.model,
            input,
            voice,
            response_format: RESPONSE_FORMATS[encoding],
            ...(req.speakingRate !== undefined && { speed: req.speakingRate }),
          });
          // The shared scope maps aborts; the sibling signal stops the other pieces after a failure.
          const res = await fetchOk(this.url, { method: 'POST', body, headers: this.headers(), signal }, scope, info);
          return readBytes(res, scope, info);
        },
        (audio, index) => checkSynthesizedAudio(audio, encoding, PROVIDER, httpTtsCallInfo(PROVIDER, this.apiKey, { index, count: pieces.length }).what),
      );
      // Billed by model, whatever the voice: stops a request voice such as 'ko-KR-Neural2-A'
      // from being priced as a Google voice.
      return synthesisResult(pieces, audios, encoding, PROVIDER, this.modelId);
    } finally {
      scope.dispose();
    }
  }

  private headers(): Record<string, string> {
    return { 'content-type': 'application/json', ...this.options.headers, ...(this.apiKey && { authorization: `Bearer ${this.apiKey}` }) };
  }

  private pieces(text: string, encoding: TtsAudioEncoding): string[] {
    const chars = codePoints(text);
    if (chars <= this.maxInputChars) return [text];
    if (!JOINABLE_ENCODINGS.includes(encoding)) {
      throw invalidRequest(PROVIDER, 'text', `is ${chars} characters, over the ${this.maxInputChars}-character limit, and ${encoding} audio cannot be joined: use MP3 or LINEAR16, or send shorter text`, PROVIDER);
    }
    try {
      return splitText(text, this.maxInputChars, codePoints).filter((p) => p.trim() !== '');
    } catch (err) {
      if (err instanceof TextTooLongError) {
        throw invalidRequest(PROVIDER, 'text', `holds a ${err.pieceLength}-character run without spaces or punctuation, over the ${this.maxInputChars}-character limit`, PROVIDER);
      }
      throw err;
    }
  }
}

/**
 * Speech synthesis on OpenAI's speech API (`tts-1`, `tts-1-hd`) or any OpenAI-compatible
 * server (a self-hosted VITS). Characters billed are the code points sent.
 */
export function httpTts(options: HttpTtsOptions): HttpTts {
  return new HttpTts(options);
}
