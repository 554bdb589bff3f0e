// One gRPC server for google.cloud.speech.v1.Speech/{Recognize,StreamingRecognize},
// google.cloud.speech.v2.Speech/StreamingRecognize and
// google.cloud.texttospeech.v1.TextToSpeech/{SynthesizeSpeech,StreamingSynthesize,ListVoices}
// (the streaming methods live in google-streaming-recognize / -synthesize), loaded from the
// .proto files inside the installed client packages, so the real SpeechClient and
// TextToSpeechClient talk to it unchanged.

import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { hearAudio, speechDurationMs, synthesizeMp3, synthesizePcm, synthesizeWav, truncateAudio, wavInfo } from './audio.js';
import type { FaultScript, HitCounter } from './faults.js';
import { duration, faultStatus, invalid, RpcError, sentencesOf } from './google-grpc-status.js';
import { bidiHandler, type StreamContext } from './google-grpc-streams.js';
import { googleProtoPaths, type GoogleProtoPaths } from './google-protos.js';
import { StreamingRecognition } from './google-streaming-recognize.js';
import { speechV2Dialect, v2ModelOf } from './google-streaming-recognize-v2.js';
import { StreamingSynthesis } from './google-streaming-synthesize.js';
import { StreamTimingSettings } from './stream-timing.js';
import { EMULATED_VOICES, voiceProblem } from './google-voices.js';
import { sleep, waitOutFault } from './http-kit.js';
import type { EmulatorTarget, Fault } from './types.js';

export { API_KEY_INVALID_MESSAGE } from './google-grpc-status.js';

/** Synchronous Recognize limits, as Google enforces them. */
export const SYNC_RECOGNIZE_MAX_BYTES = 10 * 1024 * 1024;
export const SYNC_RECOGNIZE_MAX_MS = 60_000;
/** SynthesizeSpeech input limit in UTF-8 bytes. */
export const TTS_MAX_INPUT_BYTES = 5000;

const LOADER_OPTIONS: protoLoader.Options = { keepCase: false, longs: String, enums: String, oneofs: true, defaults: false };

type AnyObject = Record<string, unknown>;
type Callback = grpc.sendUnaryData<AnyObject>;

function stripSsml(ssml: string): string {
  return ssml
    .replace(/<[^>]*>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

export class GoogleGrpcEmulator {
  private readonly server: grpc.Server;
  private readonly paths: GoogleProtoPaths;
  private readonly closeController = new AbortController();
  private closing = false;

  constructor(
    private readonly faults: FaultScript,
    private readonly hits: HitCounter,
    /** Pacing of StreamingRecognize / StreamingSynthesize. */
    readonly streamTiming = new StreamTimingSettings(),
  ) {
    this.paths = googleProtoPaths();
    const load = (file: string) => grpc.loadPackageDefinition(protoLoader.loadSync(file, { ...LOADER_OPTIONS, includeDirs: this.paths.includeDirs })) as AnyObject;
    const speech = load(this.paths.speech) as { google: { cloud: { speech: { v1: { Speech: { service: grpc.ServiceDefinition } } } } } };
    const speechV2 = load(this.paths.speechV2) as { google: { cloud: { speech: { v2: { Speech: { service: grpc.ServiceDefinition } } } } } };
    const tts = load(this.paths.textToSpeech) as { google: { cloud: { texttospeech: { v1: { TextToSpeech: { service: grpc.ServiceDefinition } } } } } };
    // Google accepts 10 MB audio; take more so an oversized request gets Google's INVALID_ARGUMENT, not a transport error.
    this.server = new grpc.Server({ 'grpc.max_receive_message_length': 32 * 1024 * 1024, 'grpc.max_send_message_length': 64 * 1024 * 1024 });
    const streams: StreamContext = { faults, hits, paths: this.paths, closeSignal: this.closeController.signal, isClosing: () => this.closing };
    const timing = () => this.streamTiming.get();
    this.server.addService(speech.google.cloud.speech.v1.Speech.service, {
      // LongRunningRecognize is left out: grpc-js answers it UNIMPLEMENTED.
      streamingRecognize: bidiHandler(
        streams,
        'google-stt',
        (first) => [String(((first.streamingConfig as AnyObject | undefined)?.config as AnyObject | undefined)?.model || 'default')],
        (pump) => new StreamingRecognition(pump, timing),
      ),
      recognize: this.unary('google-stt', (req) => [String((req.config as AnyObject | undefined)?.model || 'default')], (req) => this.recognize(req)),
    });
    // Speech v2: StreamingRecognize only (recognizer '_' and Chirp 2 / 3 for ko-KR); the rest answers UNIMPLEMENTED.
    this.server.addService(speechV2.google.cloud.speech.v2.Speech.service, {
      streamingRecognize: bidiHandler(streams, 'google-stt', (first) => [v2ModelOf(first)], (pump) => new StreamingRecognition(pump, timing, speechV2Dialect())),
    });
    this.server.addService(tts.google.cloud.texttospeech.v1.TextToSpeech.service, {
      synthesizeSpeech: this.unary(
        'google-tts',
        (req) => {
          const name = (req.voice as AnyObject | undefined)?.name;
          return typeof name === 'string' && name ? [name] : [];
        },
        (req, fault) => this.synthesize(req, fault),
      ),
      streamingSynthesize: bidiHandler(
        streams,
        'google-tts',
        (first) => {
          const name = ((first.streamingConfig as AnyObject | undefined)?.voice as AnyObject | undefined)?.name;
          return typeof name === 'string' && name ? [name] : [];
        },
        (pump) => new StreamingSynthesis(pump, timing),
      ),
      listVoices: (call: grpc.ServerUnaryCall<AnyObject, AnyObject>, cb: Callback) => {
        const lang = String(call.request.languageCode ?? '').toLowerCase();
        cb(null, { voices: EMULATED_VOICES.filter((v) => !lang || v.languageCodes.some((l) => l.toLowerCase().startsWith(lang))) });
      },
    });
  }

  /** Wraps a unary handler with hit counting, abort detection and the delay / hang / status faults. */
  private unary(target: EmulatorTarget, names: (req: AnyObject) => string[], handle: (req: AnyObject, fault: Fault | undefined) => Promise<AnyObject> | AnyObject) {
    return (call: grpc.ServerUnaryCall<AnyObject, AnyObject>, cb: Callback) => {
      const requestNames = names(call.request);
      this.hits.record(target, requestNames);
      const ctl = new AbortController();
      let answered = false;
      call.on('cancelled', () => {
        ctl.abort();
        if (!answered && !this.closing) this.hits.recordAborted(target, requestNames);
      });
      const signal = AbortSignal.any([ctl.signal, this.closeController.signal]);
      const reply: Callback = (err, value) => {
        if (answered || signal.aborted) return;
        answered = true;
        cb(err, value);
      };
      void (async () => {
        const fault = this.faults.pick(target, requestNames);
        if (!(await waitOutFault(fault, signal))) return;
        const failure = await faultStatus(this.paths, target, fault);
        if (failure) return reply(failure);
        reply(null, await handle(call.request, fault));
      })().catch((err: unknown) => {
        if (err instanceof RpcError) reply({ code: err.code, details: err.message });
        else reply({ code: grpc.status.INTERNAL, details: `emulator error: ${err instanceof Error ? err.message : String(err)}` });
      });
    };
  }

  private recognize(req: AnyObject): AnyObject {
    const config = req.config as AnyObject | undefined;
    const audio = req.audio as AnyObject | undefined;
    if (!config) throw invalid('RecognitionConfig is required.');
    const languageCode = config.languageCode;
    if (typeof languageCode !== 'string' || !languageCode) throw invalid("Invalid recognition 'config': language_code is required.");
    if (audio?.audioSource === 'uri') throw invalid('The emulator cannot read audio.uri (Cloud Storage); send the audio bytes in audio.content.');
    const content = audio?.content as Buffer | undefined;
    if (!content || content.length === 0) throw invalid('RecognitionAudio not set.');
    if (content.length > SYNC_RECOGNIZE_MAX_BYTES) throw invalid(`Request payload size exceeds the limit: ${SYNC_RECOGNIZE_MAX_BYTES} bytes.`);
    const encoding = typeof config.encoding === 'string' ? config.encoding : 'ENCODING_UNSPECIFIED';
    const rate = typeof config.sampleRateHertz === 'number' ? config.sampleRateHertz : undefined;
    const wav = wavInfo(content);
    if (wav && rate && rate !== wav.sampleRate) {
      throw invalid(`sample_rate_hertz (${rate}) in RecognitionConfig must either be unspecified or match the value in the FLAC or WAV header (${wav.sampleRate}).`);
    }
    if (wav && encoding !== 'LINEAR16' && encoding !== 'ENCODING_UNSPECIFIED') throw invalid(`Invalid recognition 'config': the WAV header says LINEAR16, not ${encoding}.`);
    if (!wav && encoding === 'LINEAR16' && !rate) throw invalid("Invalid recognition 'config': sample_rate_hertz is required for LINEAR16 audio without a WAV header.");
    const heard = hearAudio(content, { encoding, ...(rate && { sampleRateHertz: rate }) });
    if (heard.durationMs > SYNC_RECOGNIZE_MAX_MS) throw invalid("Sync input too long. For audio longer than 1 min use LongRunningRecognize with a 'uri' parameter.");

    // One result per sentence, each ending where its share of the speech ends.
    const parts = sentencesOf(heard.transcript);
    const total = parts.reduce((s, p) => s + speechDurationMs(p), 0) || 1;
    let elapsed = 0;
    const results = parts.map((transcript) => {
      elapsed += speechDurationMs(transcript);
      return {
        alternatives: [{ transcript, confidence: heard.truncated ? 0.61 : 0.92, words: [] }],
        resultEndTime: duration(Math.round((elapsed / total) * heard.durationMs)),
        languageCode: languageCode.toLowerCase(),
      };
    });
    return {
      results,
      // Billed in whole seconds, rounded up.
      totalBilledTime: { seconds: String(Math.ceil(heard.durationMs / 1000)), nanos: 0 },
      requestId: String(randomBytes(8).readBigUInt64BE() >> 1n),
    };
  }

  private synthesize(req: AnyObject, fault: Fault | undefined): AnyObject {
    const input = req.input as AnyObject | undefined;
    const source = input?.inputSource;
    if (source !== 'text' && source !== 'ssml' && source !== 'markup') {
      throw invalid(source ? `input.${String(source)} is not supported by the emulator: send input.text or input.ssml.` : 'Input is required: set input.text or input.ssml.');
    }
    const raw = String(input![source as string] ?? '');
    if (Buffer.byteLength(raw, 'utf8') > TTS_MAX_INPUT_BYTES) {
      throw invalid(
        `Either \`input.text\` or \`input.ssml\` is longer than the limit of ${TTS_MAX_INPUT_BYTES} bytes. This limit is different from quotas. To fix, reduce the byte length of the characters in this request, or consider using the Long Audio API.`,
      );
    }
    const text = source === 'ssml' ? stripSsml(raw) : raw.trim();
    if (!text) throw invalid('Input text is empty.');
    const voice = req.voice as AnyObject | undefined;
    const languageCode = typeof voice?.languageCode === 'string' ? voice.languageCode : undefined;
    const name = typeof voice?.name === 'string' && voice.name ? voice.name : undefined;
    if (!languageCode && !name) throw invalid('Voice language code is required: set voice.languageCode (e.g. ko-KR).');
    if (name) {
      const problem = voiceProblem(name, languageCode);
      if (problem) throw invalid(problem);
    }
    const cfg = (req.audioConfig ?? {}) as AnyObject;
    const encoding = typeof cfg.audioEncoding === 'string' ? cfg.audioEncoding : 'AUDIO_ENCODING_UNSPECIFIED';
    const speakingRate = typeof cfg.speakingRate === 'number' && cfg.speakingRate !== 0 ? cfg.speakingRate : 1;
    if (speakingRate < 0.25 || speakingRate > 4) throw invalid(`speaking_rate must be between 0.25 and 4.0 (got ${speakingRate}).`);
    const sampleRateHertz = typeof cfg.sampleRateHertz === 'number' && cfg.sampleRateHertz !== 0 ? cfg.sampleRateHertz : 24_000;
    if (sampleRateHertz < 8000 || sampleRateHertz > 48_000) throw invalid(`sample_rate_hertz must be between 8000 and 48000 (got ${sampleRateHertz}).`);
    let audio: Uint8Array;
    switch (encoding) {
      case 'LINEAR16':
        audio = synthesizeWav(text, { sampleRateHertz, speakingRate });
        break;
      case 'PCM':
        audio = synthesizePcm(text, { sampleRateHertz, speakingRate });
        break;
      case 'MP3':
        audio = synthesizeMp3(text, { speakingRate });
        break;
      case 'AUDIO_ENCODING_UNSPECIFIED':
        throw invalid('AudioConfig.audio_encoding is required.');
      default:
        throw invalid(`audio_encoding ${encoding} is not supported by the emulator: use LINEAR16, MP3 or PCM.`);
    }
    if (fault?.kind === 'truncated_audio') audio = truncateAudio(audio, 0.5);
    return { audioContent: Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength) };
  }

  /** Binds and resolves with the port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
        if (err) reject(new Error(`emulators: google-grpc could not listen on ${host}:${port}: ${err.message}`, { cause: err }));
        else resolve(bound);
      });
    });
  }

  /** Cancels every call in flight (hung ones included) and stops the server. */
  async close(): Promise<void> {
    this.closing = true;
    this.closeController.abort();
    this.server.forceShutdown();
    // forceShutdown is synchronous; give the sockets a turn to finish closing.
    await sleep(0, new AbortController().signal);
  }
}
