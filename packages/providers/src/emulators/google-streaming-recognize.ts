// google.cloud.speech.v1.Speech/StreamingRecognize as the real service speaks it: the first
// request carries `streaming_config` (config, interim_results, single_utterance), later ones
// `audio_content` of at most 25,600 bytes each. What is heard is the emulators' hearing of the
// audio received so far (a streamed WAV's words, as far as its samples arrived), so results grow
// as the audio does: interim results with a stability, a final result per sentence (or one for
// the utterance with single_utterance, after END_OF_SINGLE_UTTERANCE), result_end_time in the
// audio, and total_billed_time (whole seconds, rounded up) on the last response.

import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { hearAudio, wavInfo } from './audio.js';
import { hearPcm } from './hearing.js';
import { readInbandText, type InbandText } from './inband-text.js';
import { duration, sentencesOf } from './google-grpc-status.js';
import { StreamPump } from './stream-pump.js';
import type { StreamTiming } from './types.js';

type AnyObject = Record<string, unknown>;

/** Audio bytes one StreamingRecognizeRequest may carry. */
export const STREAMING_RECOGNIZE_MAX_CHUNK_BYTES = 25_600;
/** Longest stream Google serves (about 5 minutes); past it the stream ends OUT_OF_RANGE. */
export const STREAMING_RECOGNIZE_MAX_MS = 305_000;

/** How far into headerless PCM the in-band tone code is looked for. */
const CODE_SEARCH_MS = 30_000;

export const MALORDERED_MESSAGE = 'Malordered Data Received. Send exactly one config, followed by audio data.';

export interface Config {
  languageCode: string;
  encoding: string;
  sampleRateHertz?: number;
  interimResults: boolean;
  singleUtterance: boolean;
}

/**
 * What differs between Speech v1 and v2's StreamingRecognize: where the config and the audio sit
 * in a request, and the names of a result's end time and of the billed time.
 */
export interface RecognizeDialect {
  /** The request's config (or the problem with it), or undefined when it carries none. */
  config(req: AnyObject): Config | string | undefined;
  audio(req: AnyObject): Buffer | undefined;
  /** One result's fields besides alternatives, is_final and stability. */
  resultFields(endMs: number, languageCode: string): AnyObject;
  /** The fields of the stream's last response that carry the billed audio. */
  billedFields(billed: { seconds: string; nanos: number }): AnyObject;
  /** Response fields every response carries (v1's request id). */
  common: AnyObject;
}

export function speechV1Dialect(): RecognizeDialect {
  const requestId = String(randomBytes(8).readBigUInt64BE() >> 1n);
  return {
    config: (req) => (req.streamingRequest === 'streamingConfig' || req.streamingConfig ? readStreamingConfig(req.streamingConfig as AnyObject) : undefined),
    audio: (req) => req.audioContent as Buffer | undefined,
    resultFields: (endMs, languageCode) => ({ resultEndTime: duration(endMs), languageCode: languageCode.toLowerCase() }),
    billedFields: (billed) => ({ totalBilledTime: billed }),
    common: { requestId },
  };
}

/** Reads and checks a streaming_config; returns the problem as Google words it, or the config. */
export function readStreamingConfig(sc: AnyObject | undefined): Config | string {
  const config = sc?.config as AnyObject | undefined;
  if (!config) return "Invalid recognition 'config': RecognitionConfig is required in streaming_config.";
  const languageCode = config.languageCode;
  if (typeof languageCode !== 'string' || !languageCode) return "Invalid recognition 'config': language_code is required.";
  const encoding = typeof config.encoding === 'string' ? config.encoding : 'ENCODING_UNSPECIFIED';
  const rate = typeof config.sampleRateHertz === 'number' && config.sampleRateHertz > 0 ? config.sampleRateHertz : undefined;
  if (rate !== undefined && (rate < 8000 || rate > 48_000)) return `Invalid recognition 'config': sample_rate_hertz must be within 8000..48000 (got ${rate}).`;
  return { languageCode, encoding, ...(rate && { sampleRateHertz: rate }), interimResults: sc!.interimResults === true, singleUtterance: sc!.singleUtterance === true };
}

/** One StreamingRecognize call: reads the requests, pushes the responses onto its pump. */
export class StreamingRecognition {
  private config: Config | undefined;
  private audio: Buffer[] = [];
  private firstAudioAt: number | undefined;
  private heardMs = 0;
  /** Characters of the heard transcript already given as finals. */
  private finalChars = 0;
  private latestInterim: AnyObject | undefined;
  private lastInterimText = '';
  private heardText = '';
  private utteranceOver = false;
  /** Headerless PCM: its tone code once read (searched for in the first CODE_SEARCH_MS only, to keep long streams cheap). */
  private code: InbandText | undefined;

  constructor(
    private readonly pump: StreamPump,
    private readonly timing: () => StreamTiming,
    private readonly dialect: RecognizeDialect = speechV1Dialect(),
  ) {}

  /** Handles one request (a bad one ends the stream INVALID_ARGUMENT). */
  onRequest(req: AnyObject): void {
    if (this.pump.finished || this.utteranceOver) return;
    const config = this.dialect.config(req);
    if (config !== undefined) {
      if (this.config) return this.pump.fail(grpc.status.INVALID_ARGUMENT, MALORDERED_MESSAGE);
      if (typeof config === 'string') return this.pump.fail(grpc.status.INVALID_ARGUMENT, config);
      this.config = config;
      return;
    }
    if (!this.config) return this.pump.fail(grpc.status.INVALID_ARGUMENT, MALORDERED_MESSAGE);
    const chunk = this.dialect.audio(req);
    if (!chunk || chunk.length === 0) return;
    if (chunk.length > STREAMING_RECOGNIZE_MAX_CHUNK_BYTES) {
      return this.pump.fail(
        grpc.status.INVALID_ARGUMENT,
        `Request audio_content can be at most ${STREAMING_RECOGNIZE_MAX_CHUNK_BYTES} bytes per StreamingRecognizeRequest (got ${chunk.length}); split the audio into smaller requests.`,
      );
    }
    this.firstAudioAt ??= Date.now();
    this.audio.push(chunk);
    this.hear(false);
  }

  /** The client half-closed: the end of the speech. */
  onEnd(): void {
    if (this.pump.finished || this.utteranceOver) return;
    if (!this.config) return this.pump.fail(grpc.status.INVALID_ARGUMENT, MALORDERED_MESSAGE);
    this.hear(true);
    this.finish(Date.now());
  }

  private hear(ended: boolean): void {
    const config = this.config!;
    const bytes = this.audio.length === 1 ? this.audio[0]! : Buffer.concat(this.audio);
    this.audio = [bytes];
    const wav = wavInfo(bytes);
    if (!wav && config.encoding === 'LINEAR16' && !config.sampleRateHertz) {
      return this.pump.fail(grpc.status.INVALID_ARGUMENT, "Invalid recognition 'config': sample_rate_hertz is required for LINEAR16 audio without a WAV header.");
    }
    const rate = config.sampleRateHertz;
    const raw = !wav && config.encoding === 'LINEAR16' && rate !== undefined;
    if (raw && !this.code && bytes.length / 2 / rate <= CODE_SEARCH_MS / 1000) this.code = readInbandText(bytes, rate);
    const heard = raw ? hearPcm(bytes, rate, this.code) : hearAudio(bytes, { encoding: config.encoding, ...(rate && { sampleRateHertz: rate }) });
    this.heardMs = heard.durationMs;
    if (heard.durationMs > STREAMING_RECOGNIZE_MAX_MS) {
      return this.pump.fail(grpc.status.OUT_OF_RANGE, `Exceeded maximum allowed stream duration of ${STREAMING_RECOGNIZE_MAX_MS / 1000} seconds.`);
    }
    const text = heard.transcript;
    this.heardText = text;
    const pending = text.slice(this.finalChars).trim();
    const complete = heard.embeddedText !== undefined && text === heard.embeddedText && !heard.truncated;

    if (config.singleUtterance) {
      if (complete && text) {
        // Heard the whole utterance: say so, then give its final and stop listening.
        this.utteranceOver = true;
        const at = Date.now();
        this.pump.push({ result: false, due: () => at, build: () => ({ results: [], speechEventType: 'END_OF_SINGLE_UTTERANCE', speechEventTime: duration(this.heardMs) }) });
        this.finish(at);
        return;
      }
    } else if (!ended) {
      // Each sentence heard to its end becomes final as soon as it is.
      const sentences = sentencesOf(pending);
      const done = complete ? sentences : sentences.slice(0, -1);
      for (const sentence of done) this.pushFinal(sentence, false);
    }
    if (!ended && config.interimResults) {
      const rest = text.slice(this.finalChars).trim();
      if (rest && rest !== this.lastInterimText) {
        this.lastInterimText = rest;
        const whole = heard.embeddedText;
        const fraction = whole ? Math.min(1, rest.length / Math.max(1, whole.length - this.finalChars)) : 0.5;
        this.latestInterim = this.response([{ transcript: rest }], false, Math.round(Math.min(0.9, 0.1 + 0.8 * fraction) * 100) / 100);
        this.pump.push({
          result: true,
          ready: () => this.latestInterim !== undefined,
          due: ({ results, lastSentAt }) => (results === 0 ? this.firstResultDue() : (lastSentAt ?? 0) + this.timing().recognizeInterimMs),
          build: () => {
            const msg = this.latestInterim;
            this.latestInterim = undefined;
            return msg;
          },
        });
      }
    }
  }

  private firstResultDue(): number {
    return (this.firstAudioAt ?? Date.now()) + this.timing().recognizeFirstResultMs;
  }

  /** Queues a final for `transcript`; the last one of the stream carries the billed time. */
  private pushFinal(transcript: string, last: boolean, speechEndAt?: number): void {
    const at = this.heardText.indexOf(transcript, this.finalChars);
    this.finalChars = at >= 0 ? at + transcript.length : this.heardText.length;
    this.latestInterim = undefined;
    this.lastInterimText = '';
    const msg = this.response([{ transcript, confidence: 0.92 }], true, undefined, this.heardMs);
    if (last) Object.assign(msg, this.dialect.billedFields(this.billed()));
    const endDue = speechEndAt === undefined ? 0 : speechEndAt + this.timing().recognizeFinalMs;
    this.pump.push({ result: true, due: ({ results }) => Math.max(results === 0 ? this.firstResultDue() : 0, endDue), build: () => msg });
  }

  /** The end of the speech: the rest of the transcript as the last final (or just the billed time), then the end. */
  private finish(speechEndAt: number): void {
    const rest = this.heardText.slice(this.finalChars).trim();
    if (rest) this.pushFinal(rest, true, speechEndAt);
    else {
      const billed = this.billed();
      this.pump.push({ result: false, due: () => speechEndAt + this.timing().recognizeFinalMs, build: () => ({ results: [], ...this.dialect.billedFields(billed), ...this.dialect.common }) });
    }
    this.pump.end();
  }

  private billed(): { seconds: string; nanos: number } {
    return { seconds: String(Math.ceil(this.heardMs / 1000)), nanos: 0 };
  }

  private response(alternatives: { transcript: string; confidence?: number }[], isFinal: boolean, stability?: number, endMs = this.heardMs): AnyObject {
    return {
      results: [{ alternatives, isFinal, ...(stability !== undefined && { stability }), ...this.dialect.resultFields(endMs, this.config!.languageCode) }],
      ...this.dialect.common,
    };
  }
}
