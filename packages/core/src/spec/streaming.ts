// The streaming calls' public shapes: what a host app hands to `client.stt.transcribeStream` and
// `client.tts.synthesizeStream`, what it gets back, and what a provider implements to stream.
// Providers without the streaming methods still serve streams: the core sends STT audio as one
// sync request when it ends, and splits TTS text at sentence boundaries.
import type { AttemptContext, AudioEncoding, SttResult, TtsAudioEncoding, TtsResult } from './types.js';

/** A streaming recognition request. The audio itself arrives as an AsyncIterable beside it. */
export interface SttStreamRequest {
  encoding: AudioEncoding;
  /** Required for LINEAR16 (raw 16-bit mono PCM, no header). */
  sampleRateHertz?: number;
  /** BCP-47 language, default 'ko-KR'. */
  languageCode?: string;
  /**
   * Longest audio this stream may carry, ms. Required: the budget reserves the cost of this much
   * audio before the stream opens, and audio past it ends the call with `invalid_request`.
   * LINEAR16 is measured by its bytes. Compressed audio is measured by the time since its first
   * chunk, and is also refused past the bytes this much audio can take at its encoding's highest
   * bitrate (`streamAudioByteLimit`: Opus 512 kbit/s, MP3 320 kbit/s, FLAC 17 bits per sample at
   * `sampleRateHertz` or 48 kHz, plus 4096 header bytes), however fast it is sent; OGG_OPUS is
   * also measured by its pages' granule positions.
   */
  maxAudioMs: number;
  /** Interim (non-final) results, default true. */
  interimResults?: boolean;
  /** End recognition after the first utterance (the learner's turn), default false. */
  singleUtterance?: boolean;
}

/** One event of a recognition stream: an interim guess that may still change, or a final result. */
export type SttStreamEvent =
  | { type: 'interim'; transcript: string; /** 0..1, how likely this guess stays */ stability?: number }
  | { type: 'final'; transcript: string; confidence?: number; /** End of this result in the audio, ms from the stream's start. */ endMs: number };

/** What `transcribeStream` returns: the events as they come, and the call's result once it ends. */
export interface SttStream extends AsyncIterable<SttStreamEvent> {
  /** The joined final transcript with `.meta` (attempts, provider, latencyMs, costUsd); rejects with an AiError. */
  readonly result: Promise<SttResult>;
}

/** A streaming synthesis request. The text is a string or an AsyncIterable beside it. */
export interface TtsStreamRequest {
  /** Voice name, e.g. 'ko-KR-Chirp3-HD-Aoede'. Defaults to the provider's voice. */
  voice?: string;
  /** The one encoding every chunk is in: LINEAR16 (PCM, no header) or OGG_OPUS. Default LINEAR16. */
  audioEncoding?: Extract<TtsAudioEncoding, 'LINEAR16' | 'OGG_OPUS'>;
  /** LINEAR16 sample rate, default 24000. */
  sampleRateHertz?: number;
  /** 0.25..4, default 1. */
  speakingRate?: number;
}

/** What `synthesizeStream` returns: audio chunks as they are made, and the call's result once it ends. */
export interface TtsStream extends AsyncIterable<Uint8Array> {
  /** All the audio with `.meta`; rejects with an AiError. */
  readonly result: Promise<TtsResult>;
}

/** A provider's recognition stream for one attempt: its events, then what it billed. */
export interface SttProviderStream extends AsyncIterable<SttStreamEvent> {
  /** Resolves when the stream ended (or failed) with the audio billed, ms. */
  readonly usage: Promise<{ audioDurationMs: number; modelId?: string }>;
}

/** A provider's synthesis stream for one attempt: audio chunks, then what it billed. */
export interface TtsProviderStream extends AsyncIterable<Uint8Array> {
  /** Resolves when the stream ended (or failed) with the characters billed. */
  readonly usage: Promise<{ characters: number; requests?: number; modelId?: string }>;
}

/** Optional on an SttProvider: recognition of audio while it is spoken. */
export interface SttStreamingCapable {
  transcribeStream(audio: AsyncIterable<Uint8Array>, req: SttStreamRequest, ctx: AttemptContext): SttProviderStream;
}

/** Optional on a TtsProvider: synthesis of text while it arrives. */
export interface TtsStreamingCapable {
  synthesizeStream(text: AsyncIterable<string>, req: TtsStreamRequest, ctx: AttemptContext): TtsProviderStream;
}

export type { SttResult, TtsResult };
