// google.cloud.texttospeech.v1.TextToSpeech/StreamingSynthesize as the real service speaks it:
// the first request carries `streaming_config` (voice, streaming_audio_config), later ones
// `input { text }` pieces. Chirp 3 HD voices only; PCM (headerless LINEAR16, 24 kHz unless
// asked) or OGG_OPUS. Text is spoken sentence by sentence as each sentence is complete (the rest
// when the client half-closes), each sentence's audio sent in chunks of
// `streamTiming.synthesizeChunkAudioMs`.

import * as grpc from '@grpc/grpc-js';
import { SPEECH_TIMING, speechDurationMs, synthesizePcm } from './audio.js';
import { TTS_MAX_INPUT_BYTES } from './google-grpc-server.js';
import { voiceProblem } from './google-voices.js';
import { OggOpusWriter } from './ogg-opus-writer.js';
import type { StreamPump } from './stream-pump.js';
import type { StreamTiming } from './types.js';

type AnyObject = Record<string, unknown>;

export const STREAMING_SYNTHESIZE_ENCODINGS = ['PCM', 'OGG_OPUS'] as const;
export const STREAMING_SYNTHESIZE_MALORDERED =
  'The first StreamingSynthesizeRequest must contain a streaming_config and no input; every later one only input.';

interface Config {
  encoding: 'PCM' | 'OGG_OPUS';
  sampleRateHertz: number;
  speakingRate: number;
}

/** Reads and checks a StreamingSynthesizeConfig; the problem as a message, or the config. */
export function readSynthesizeConfig(sc: AnyObject | undefined): Config | string {
  const voice = sc?.voice as AnyObject | undefined;
  const name = typeof voice?.name === 'string' ? voice.name : '';
  const languageCode = typeof voice?.languageCode === 'string' ? voice.languageCode : undefined;
  if (!name) return 'streaming_config.voice.name is required: streaming synthesis needs a Chirp 3: HD voice (e.g. ko-KR-Chirp3-HD-Aoede).';
  const problem = voiceProblem(name, languageCode);
  if (problem) return problem;
  if (!name.includes('-Chirp3-HD-')) return `Voice ${name} does not support streaming synthesis: only Chirp 3: HD voices do.`;
  const audio = (sc!.streamingAudioConfig ?? {}) as AnyObject;
  const encoding = typeof audio.audioEncoding === 'string' ? audio.audioEncoding : 'PCM';
  if (encoding === 'ALAW' || encoding === 'MULAW') return `audio_encoding ${encoding} is not supported by the emulator's streaming synthesis: use PCM or OGG_OPUS.`;
  if (!(STREAMING_SYNTHESIZE_ENCODINGS as readonly string[]).includes(encoding)) {
    return `Unsupported audio_encoding ${encoding} for streaming synthesis. Streaming supports PCM, ALAW, MULAW and OGG_OPUS.`;
  }
  const rate = typeof audio.sampleRateHertz === 'number' && audio.sampleRateHertz !== 0 ? audio.sampleRateHertz : 24_000;
  if (!Number.isInteger(rate) || rate < 8000 || rate > 48_000) return `sample_rate_hertz must be between 8000 and 48000 (got ${rate}).`;
  const speakingRate = typeof audio.speakingRate === 'number' && audio.speakingRate !== 0 ? audio.speakingRate : 1;
  // Streaming allows 0.25..2.0 (the unary call allows up to 4).
  if (speakingRate < 0.25 || speakingRate > 2) return `speaking_rate must be between 0.25 and 2.0 (got ${speakingRate}).`;
  return { encoding: encoding as Config['encoding'], sampleRateHertz: rate, speakingRate };
}

/** Splits off the complete sentences at the front of `text`; the rest waits for more input. */
function completeSentences(text: string): { done: string; rest: string } {
  const m = /^[\s\S]*[.!?。！？…](?=\s|$)/u.exec(text);
  return m ? { done: m[0], rest: text.slice(m[0].length) } : { done: '', rest: text };
}

/** One StreamingSynthesize call: reads the requests, pushes the audio chunks onto its pump. */
export class StreamingSynthesis {
  private config: Config | undefined;
  private pending = '';
  private ogg: OggOpusWriter | undefined;
  private spokeAt: number | undefined;

  constructor(
    private readonly pump: StreamPump,
    private readonly timing: () => StreamTiming,
  ) {}

  onRequest(req: AnyObject): void {
    if (this.pump.finished) return;
    if (req.streamingRequest === 'streamingConfig' || req.streamingConfig) {
      if (this.config) return this.pump.fail(grpc.status.INVALID_ARGUMENT, STREAMING_SYNTHESIZE_MALORDERED);
      const config = readSynthesizeConfig(req.streamingConfig as AnyObject);
      if (typeof config === 'string') return this.pump.fail(grpc.status.INVALID_ARGUMENT, config);
      this.config = config;
      return;
    }
    if (!this.config) return this.pump.fail(grpc.status.INVALID_ARGUMENT, STREAMING_SYNTHESIZE_MALORDERED);
    const input = req.input as AnyObject | undefined;
    const source = input?.inputSource;
    if (source !== 'text' && source !== 'markup') {
      return this.pump.fail(grpc.status.INVALID_ARGUMENT, source ? `input.${String(source)} is not supported by the emulator: send input.text or input.markup.` : 'input.text is required.');
    }
    const text = String(input![source] ?? '');
    if (Buffer.byteLength(text, 'utf8') > TTS_MAX_INPUT_BYTES) {
      return this.pump.fail(grpc.status.INVALID_ARGUMENT, `input.text is longer than the limit of ${TTS_MAX_INPUT_BYTES} bytes per request.`);
    }
    this.pending += text;
    const { done, rest } = completeSentences(this.pending);
    this.pending = rest;
    if (done.trim()) this.speak(done.trim(), false);
  }

  /** The client half-closed: speak what is left, then end. */
  onEnd(): void {
    if (this.pump.finished) return;
    if (!this.config) return this.pump.fail(grpc.status.INVALID_ARGUMENT, STREAMING_SYNTHESIZE_MALORDERED);
    const rest = this.pending.trim();
    this.pending = '';
    if (rest) this.speak(rest, true);
    else if (this.ogg) this.pushChunk(this.ogg.audio(0, true), Date.now());
    this.pump.end();
  }

  private speak(text: string, last: boolean): void {
    const c = this.config!;
    const readyAt = Date.now();
    const chunkMs = this.timing().synthesizeChunkAudioMs;
    if (c.encoding === 'OGG_OPUS') {
      const first = !this.ogg;
      this.ogg ??= new OggOpusWriter();
      const ms = speechDurationMs(text, c.speakingRate);
      const pieces = Math.max(1, Math.ceil(ms / chunkMs));
      for (let i = 0; i < pieces; i++) {
        const page = this.ogg.audio(Math.min(chunkMs, ms - i * chunkMs), last && i === pieces - 1);
        const head = first && i === 0 ? this.ogg.header() : undefined;
        this.pushChunk(head ? Buffer.concat([head, page]) : page, readyAt);
      }
      return;
    }
    // Back-to-back sentences: drop the leading edge silence after the first, as one voice would.
    const pcm = synthesizePcm(text, { sampleRateHertz: c.sampleRateHertz, speakingRate: c.speakingRate });
    const skip = this.spokeAt === undefined ? 0 : Math.round((SPEECH_TIMING.edgeSilenceMs / c.speakingRate) * c.sampleRateHertz / 1000) * 2;
    const bytesPerChunk = Math.max(2, Math.round((chunkMs * c.sampleRateHertz) / 1000) * 2);
    for (let at = skip; at < pcm.length; at += bytesPerChunk) this.pushChunk(pcm.subarray(at, Math.min(pcm.length, at + bytesPerChunk)), readyAt);
    this.spokeAt = readyAt;
  }

  private pushChunk(bytes: Uint8Array, readyAt: number): void {
    const audioContent = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pump.push({
      result: true,
      due: ({ results, lastSentAt }) => (results === 0 ? readyAt + this.timing().synthesizeFirstChunkMs : Math.max(readyAt, (lastSentAt ?? 0) + this.timing().synthesizePerChunkMs)),
      build: () => ({ audioContent }),
    });
  }
}
