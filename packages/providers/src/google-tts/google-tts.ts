import { TextToSpeechClient, type protos } from '@google-cloud/text-to-speech';
import { AiError, type AttemptContext, type TtsAudioEncoding, type TtsProvider, type TtsProviderResult, type TtsProviderStream, type TtsRequest, type TtsStreamingCapable, type TtsStreamRequest } from '@korean-together/core';
import { invalidRequest, sentenceStream, validateTtsRequest } from '@korean-together/core/provider-kit';
import { AttemptScope } from '../shared/attempt-scope.js';
import { splitText, TextTooLongError, utf8Bytes } from '../shared/text-split.js';
import { checkSynthesizedAudio, JOINABLE_ENCODINGS, synthesisResult, synthesizePieces } from '../shared/tts-audio.js';
import { mapTextToSpeechError } from './errors.js';
import { streamsNatively, synthesizeConfig, synthesizeStreaming } from './google-tts-stream.js';
import { GOOGLE_TTS_DEFAULTS, type GoogleTtsOptions } from './options.js';

const PROVIDER = 'google-tts';
type SynthesizeRequest = protos.google.cloud.texttospeech.v1.ISynthesizeSpeechRequest;

/** 'ko-KR-Wavenet-A' -> 'ko-KR'. Undefined when the name does not start with a language tag. */
export function languageOfVoice(voice: string): string | undefined {
  return /^([a-z]{2,3}-[A-Z]{2})-/.exec(voice)?.[1];
}

function toBytes(content: Uint8Array | string | null | undefined): Uint8Array {
  if (content == null) return new Uint8Array(0);
  // The REST fallback hands bytes over as base64.
  return typeof content === 'string' ? new Uint8Array(Buffer.from(content, 'base64')) : content;
}

/** A `TtsProvider` on Google Cloud Text-to-Speech v1 `SynthesizeSpeech`. */
export class GoogleTts implements TtsProvider, TtsStreamingCapable {
  readonly capability = 'tts' as const;
  readonly name = PROVIDER;
  readonly modelId: string;
  private readonly client: TextToSpeechClient;
  private readonly secrets: (string | undefined)[];

  constructor(private readonly options: GoogleTtsOptions = {}) {
    this.modelId = options.voice ?? GOOGLE_TTS_DEFAULTS.voice;
    if (!languageOfVoice(this.modelId)) {
      throw new AiError('invalid_config', `googleTts: voice '${this.modelId}' does not start with a language code such as ko-KR`, {
        provider: PROVIDER,
        retryable: false,
      });
    }
    this.client = new TextToSpeechClient(options.clientOptions);
    this.secrets = [options.clientOptions?.apiKey];
  }

  async synthesize(req: TtsRequest, ctx: AttemptContext): Promise<TtsProviderResult> {
    // Text above 5000 bytes is split, so no maxTextBytes here (the policy's applies in the client).
    validateTtsRequest(req, { who: PROVIDER, provider: PROVIDER });
    const voice = req.voice ?? this.modelId;
    const languageCode = languageOfVoice(voice);
    if (!languageCode) throw invalidRequest(PROVIDER, 'voice', `'${voice}' is not a Google voice name (expected e.g. ko-KR-Wavenet-A)`, PROVIDER);
    const encoding: TtsAudioEncoding = req.audioEncoding ?? this.options.audioEncoding ?? GOOGLE_TTS_DEFAULTS.audioEncoding;
    const pieces = this.pieces(req.text, encoding);
    const base: Omit<SynthesizeRequest, 'input'> = {
      voice: { languageCode, name: voice },
      audioConfig: {
        audioEncoding: encoding,
        ...(req.speakingRate !== undefined && { speakingRate: req.speakingRate }),
        ...(this.options.sampleRateHertz !== undefined && { sampleRateHertz: this.options.sampleRateHertz }),
      },
    };
    const scope = new AttemptScope(ctx);
    const siblings = new AbortController();
    const signal = AbortSignal.any([scope.signal, siblings.signal]);
    try {
      scope.throwIfAborted(PROVIDER, 'SynthesizeSpeech');
      const audios = await synthesizePieces(
        pieces,
        this.options.maxConcurrentRequests ?? GOOGLE_TTS_DEFAULTS.maxConcurrentRequests,
        siblings,
        async (text, index) => {
          try {
            const [res] = await this.client.synthesizeSpeech({ ...base, input: { text } }, { retry: null, timeout: Math.max(1, scope.msLeft()), signal });
            return toBytes(res.audioContent);
          } catch (err) {
            throw mapTextToSpeechError(err, scope, PROVIDER, this.secrets, { index, count: pieces.length });
          }
        },
        (audio, index) =>
          checkSynthesizedAudio(audio, encoding, PROVIDER, pieces.length > 1 ? `SynthesizeSpeech (piece ${index + 1} of ${pieces.length})` : 'SynthesizeSpeech'),
      );
      return synthesisResult(pieces, audios, encoding, PROVIDER, voice);
    } finally {
      scope.dispose();
    }
  }

  /** The request texts: the whole text, or sentence-aligned pieces of at most 5000 UTF-8 bytes. */
  private pieces(text: string, encoding: TtsAudioEncoding): string[] {
    const limit = GOOGLE_TTS_DEFAULTS.maxInputBytes;
    const bytes = utf8Bytes(text);
    if (bytes <= limit) return [text];
    if (!JOINABLE_ENCODINGS.includes(encoding)) {
      throw invalidRequest(PROVIDER, 'text', `is ${bytes} UTF-8 bytes, over the ${limit}-byte limit, and ${encoding} audio cannot be joined: use MP3 or LINEAR16, or send shorter text`, PROVIDER);
    }
    try {
      return splitText(text, limit, utf8Bytes).filter((p) => p.trim() !== '');
    } catch (err) {
      if (err instanceof TextTooLongError) {
        throw invalidRequest(PROVIDER, 'text', `is ${bytes} UTF-8 bytes and holds a ${err.pieceLength}-byte run without spaces or punctuation, which cannot fit in one ${limit}-byte request`, PROVIDER);
      }
      throw err;
    }
  }

  /**
   * Synthesis while the text arrives: StreamingSynthesize for Chirp 3 HD voices (the only ones
   * that stream); any other voice sentence by sentence over SynthesizeSpeech.
   */
  synthesizeStream(text: AsyncIterable<string>, req: TtsStreamRequest, ctx: AttemptContext): TtsProviderStream {
    const voice = req.voice ?? this.modelId;
    const languageCode = languageOfVoice(voice);
    if (!languageCode) throw invalidRequest(PROVIDER, 'voice', `'${voice}' is not a Google voice name (expected e.g. ko-KR-Chirp3-HD-Aoede)`, PROVIDER);
    if (!streamsNatively(voice)) return sentenceStream(this, text, { ...req, voice }, ctx);
    return synthesizeStreaming(this.client, synthesizeConfig(req, voice, languageCode, PROVIDER), text, ctx, PROVIDER, this.secrets);
  }

  /** Google prices by the requested voice's tier. */
  modelIdFor(req: TtsRequest): string {
    return req.voice ?? this.modelId;
  }

  /** Closes the client's gRPC channel. */
  async close(): Promise<void> {
    await this.client.close();
  }
}

/**
 * Korean speech synthesis on Google Cloud Text-to-Speech v1. Text over 5000 UTF-8 bytes is
 * split at sentence ends into several requests within the same attempt and the audio joined.
 * google-gax retries are off; the policy retries.
 */
export function googleTts(options: GoogleTtsOptions = {}): GoogleTts {
  return new GoogleTts(options);
}
