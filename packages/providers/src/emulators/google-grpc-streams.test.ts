import { SpeechClient, v2 as speechV2 } from '@google-cloud/speech';
import { TextToSpeechClient } from '@google-cloud/text-to-speech';
import { oggOpusDurationMs, oggOpusProblem } from '@korean-together/core/provider-kit';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { speechDurationMs, synthesizeMicrophonePcm, synthesizePcm, synthesizeWav } from './audio.js';
import { FaultScript, HitCounter } from './faults.js';
import { GoogleGrpcEmulator } from './google-grpc-server.js';
import { STREAMING_RECOGNIZE_MAX_CHUNK_BYTES } from './google-streaming-recognize.js';

const faults = new FaultScript(1);
const hits = new HitCounter();
const emulator = new GoogleGrpcEmulator(faults, hits);
let stt: SpeechClient;
let sttV2: InstanceType<typeof speechV2.SpeechClient>;
let tts: TextToSpeechClient;

beforeAll(async () => {
  const port = await emulator.listen('127.0.0.1', 0);
  const clientOptions = { apiEndpoint: '127.0.0.1', port, sslCreds: grpc.credentials.createInsecure(), universeDomain: 'googleapis.com' };
  stt = new SpeechClient(clientOptions);
  sttV2 = new speechV2.SpeechClient(clientOptions);
  tts = new TextToSpeechClient(clientOptions);
});
afterAll(async () => {
  await stt.close();
  await sttV2.close();
  await tts.close();
  await emulator.close();
});
beforeEach(() => {
  faults.clear();
  hits.reset();
  emulator.streamTiming.reset();
});

type Response = {
  results?: { alternatives?: { transcript?: string; confidence?: number }[]; isFinal?: boolean; stability?: number; resultEndTime?: { seconds?: string | number; nanos?: number } }[];
  speechEventType?: string | number;
  totalBilledTime?: { seconds?: string | number } | null;
};

const LINEAR16_16K = { encoding: 'LINEAR16' as const, sampleRateHertz: 16_000, languageCode: 'ko-KR' };

/** Streams `audio` in `chunkBytes` pieces through the real client's streamingRecognize helper; collects responses until the stream ends. */
function recognizeStream(audio: Uint8Array, opts: { chunkBytes?: number; interimResults?: boolean; singleUtterance?: boolean; config?: object; endAfter?: boolean } = {}) {
  const stream = stt.streamingRecognize(
    { config: opts.config ?? LINEAR16_16K, interimResults: opts.interimResults ?? true, singleUtterance: opts.singleUtterance ?? false },
    { timeout: 10_000, retry: null } as never,
  );
  const responses: Response[] = [];
  const done = new Promise<{ responses: Response[]; error?: grpc.ServiceError }>((resolve) => {
    stream.on('data', (r: Response) => responses.push(r));
    stream.on('error', (error: grpc.ServiceError) => resolve({ responses, error }));
    stream.on('end', () => resolve({ responses }));
  });
  const step = opts.chunkBytes ?? 3200;
  for (let at = 0; at < audio.length; at += step) stream.write(Buffer.from(audio.subarray(at, at + step)));
  if (opts.endAfter !== false) stream.end();
  return { stream, done };
}

const ms = (d: { seconds?: string | number; nanos?: number } | undefined) => (d ? Number(d.seconds ?? 0) * 1000 + (d.nanos ?? 0) / 1e6 : 0);
const finals = (rs: Response[]) => rs.flatMap((r) => r.results ?? []).filter((r) => r.isFinal);
const interims = (rs: Response[]) => rs.flatMap((r) => r.results ?? []).filter((r) => !r.isFinal);

describe('StreamingRecognize with the real SpeechClient', () => {
  const text = '안녕하세요. 저는 학생입니다.';
  const wav = synthesizeWav(text, { sampleRateHertz: 16_000 });

  it('streams interim results that grow, a final per sentence with its end time, and the billed seconds last', async () => {
    const { responses, error } = await recognizeStream(wav).done;
    expect(error).toBeUndefined();
    const f = finals(responses);
    expect(f.map((r) => r.alternatives![0]!.transcript)).toEqual(['안녕하세요.', '저는 학생입니다.']);
    expect(ms(f[0]!.resultEndTime)).toBeLessThan(ms(f[1]!.resultEndTime));
    expect(ms(f[1]!.resultEndTime)).toBeLessThanOrEqual(speechDurationMs(text));
    const i = interims(responses);
    expect(i.length).toBeGreaterThan(1);
    for (const r of i) expect(r.stability).toBeGreaterThan(0);
    expect(i.some((r) => r.alternatives![0]!.transcript === '저는')).toBe(true);
    expect(responses.at(-1)!.totalBilledTime).toMatchObject({ seconds: String(Math.ceil(speechDurationMs(text) / 1000)) });
    expect(hits.count('google-stt', 'default')).toBe(1);
  });

  it('with singleUtterance: END_OF_SINGLE_UTTERANCE once the whole utterance is heard, then one final, then the stream ends', async () => {
    const { responses, error } = await recognizeStream(wav, { singleUtterance: true, interimResults: false, endAfter: false }).done;
    expect(error).toBeUndefined();
    const eventAt = responses.findIndex((r) => r.speechEventType === 'END_OF_SINGLE_UTTERANCE');
    expect(eventAt).toBeGreaterThanOrEqual(0);
    expect(finals(responses).map((r) => r.alternatives![0]!.transcript)).toEqual([text]);
    expect(responses.findIndex((r) => r.results?.[0]?.isFinal)).toBeGreaterThan(eventAt);
    expect(interims(responses)).toHaveLength(0);
  });

  it('refuses an audio request over 25,600 bytes with INVALID_ARGUMENT', async () => {
    const big = synthesizeWav('가나다라마바사아자차카타파하 가나다라마바사아자차카타파하', { sampleRateHertz: 16_000 });
    expect(big.length).toBeGreaterThan(STREAMING_RECOGNIZE_MAX_CHUNK_BYTES);
    const { error } = await recognizeStream(big, { chunkBytes: STREAMING_RECOGNIZE_MAX_CHUNK_BYTES + 1 }).done;
    expect(error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error?.details).toContain('25600');
  });

  it('refuses audio before the config, and raw LINEAR16 without a sample rate', async () => {
    const raw = stt._streamingRecognize({ timeout: 5000 } as never) as unknown as NodeJS.ReadWriteStream & { on: (e: string, f: (x: never) => void) => void };
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      raw.on('error', resolve);
      raw.on('data', () => undefined);
      raw.write({ audioContent: Buffer.alloc(100) } as never);
    });
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain('Malordered Data Received');
    const { error } = await recognizeStream(synthesizePcm('안녕', { sampleRateHertz: 16_000 }), { config: { encoding: 'LINEAR16', languageCode: 'ko-KR' } }).done;
    expect(error?.details).toContain('sample_rate_hertz is required');
  });

  it('headerless PCM from a microphone is heard through its in-band tone code, word by word', async () => {
    const said = '저는 학생입니다';
    const mic = synthesizeMicrophonePcm(said, { sampleRateHertz: 16_000 });
    const { responses, error } = await recognizeStream(mic, { chunkBytes: 1600 }).done;
    expect(error).toBeUndefined();
    expect(interims(responses).map((r) => r.alternatives![0]!.transcript)).toContain('저는');
    expect(finals(responses).map((r) => r.alternatives![0]!.transcript)).toEqual([said]);
  });

  it('headerless PCM without a tone code is heard as speech without words: no results, billed by its length', async () => {
    const pcm = synthesizePcm('안녕하세요', { sampleRateHertz: 16_000 });
    const { responses, error } = await recognizeStream(pcm).done;
    expect(error).toBeUndefined();
    expect(finals(responses)).toHaveLength(0);
    expect(responses.at(-1)!.totalBilledTime).toMatchObject({ seconds: '1' });
  });

  it('paces results: the first no sooner than recognizeFirstResultMs after the first audio, the final recognizeFinalMs after the end', async () => {
    emulator.streamTiming.set({ recognizeFirstResultMs: 150, recognizeFinalMs: 120 });
    const started = Date.now();
    const { stream, done } = recognizeStream(wav, { endAfter: false });
    const firstAt = await new Promise<number>((resolve) => stream.once('data', () => resolve(Date.now())));
    expect(firstAt - started).toBeGreaterThanOrEqual(145);
    const endedAt = Date.now();
    stream.end();
    const { responses } = await done;
    expect(Date.now() - endedAt).toBeGreaterThanOrEqual(115);
    expect(finals(responses).length).toBe(2);
  });

  it('faults: fail before the first result, fail after N results, stall, slow first result', async () => {
    faults.add({ target: 'google-stt', fault: { kind: 'fail_before_first_result', status: 14 }, times: 1 });
    let out = await recognizeStream(wav).done;
    expect(out.error?.code).toBe(grpc.status.UNAVAILABLE);
    expect(out.responses).toHaveLength(0);

    faults.add({ target: 'google-stt', fault: { kind: 'fail_mid_stream', afterResults: 2, status: 13 }, times: 1 });
    out = await recognizeStream(wav).done;
    expect(out.error?.code).toBe(grpc.status.INTERNAL);
    expect(out.responses.flatMap((r) => r.results ?? [])).toHaveLength(2);

    faults.add({ target: 'google-stt', fault: { kind: 'stall', afterResults: 1 }, times: 1 });
    const raw = stt._streamingRecognize({ timeout: 10_000 } as never) as unknown as NodeJS.ReadWriteStream & { write(x: unknown): boolean; cancel(): void };
    const got: unknown[] = [];
    raw.on('data', (r) => got.push(r));
    raw.on('error', () => undefined);
    raw.write({ streamingConfig: { config: LINEAR16_16K, interimResults: true } });
    for (let at = 0; at < wav.length; at += 3200) raw.write({ audioContent: Buffer.from(wav.subarray(at, at + 3200)) });
    raw.end();
    await new Promise((r) => setTimeout(r, 200));
    // One result, then silence although all the audio went in and the client half-closed.
    expect(got).toHaveLength(1);
    raw.cancel();
    await new Promise((r) => setTimeout(r, 50));
    expect(hits.aborted('google-stt')).toBe(1);

    faults.add({ target: 'google-stt', fault: { kind: 'slow_first_chunk', ms: 150 }, times: 1 });
    const started = Date.now();
    const slow = recognizeStream(wav);
    await new Promise((resolve) => slow.stream.once('data', resolve));
    expect(Date.now() - started).toBeGreaterThanOrEqual(145);
    expect((await slow.done).error).toBeUndefined();
  });

  it('unary Recognize passes streaming-only faults by; status faults end a stream at once', async () => {
    faults.add({ target: 'google-stt', fault: { kind: 'fail_before_first_result' } });
    const [res] = await stt.recognize({ config: LINEAR16_16K, audio: { content: wav } }, { retry: null, timeout: 5000 } as never);
    expect(res.results).toHaveLength(2);
    faults.clear();
    faults.add({ target: 'google-stt', fault: { kind: 'status', status: 429, retryAfterSeconds: 3 }, times: 1 });
    const out = await recognizeStream(wav).done;
    expect(out.error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });
});

describe('Speech v2 StreamingRecognize (Chirp 2 for ko-KR) with the real v2 SpeechClient', () => {
  const RECOGNIZER = 'projects/emulator-project/locations/us-central1/recognizers/_';
  function v2Stream(first: Record<string, unknown>, audio: Uint8Array) {
    const raw = sttV2._streamingRecognize({ timeout: 10_000 } as never) as unknown as NodeJS.ReadWriteStream & { write(x: unknown): boolean };
    const responses: Record<string, any>[] = [];
    const done = new Promise<{ responses: Record<string, any>[]; error?: grpc.ServiceError }>((resolve) => {
      raw.on('data', (r: Record<string, any>) => responses.push(r));
      raw.on('error', (error: grpc.ServiceError) => resolve({ responses, error }));
      raw.on('end', () => resolve({ responses }));
    });
    raw.write(first);
    for (let at = 0; at < audio.length; at += 3200) raw.write({ audio: Buffer.from(audio.subarray(at, at + 3200)) });
    raw.end();
    return done;
  }
  const config = (model: string) => ({
    config: { explicitDecodingConfig: { encoding: 'LINEAR16', sampleRateHertz: 16_000, audioChannelCount: 1 }, model, languageCodes: ['ko-KR'] },
    streamingFeatures: { interimResults: true },
  });

  it('hears a microphone stream: interim results, a final with result_end_offset, the billed duration in metadata', async () => {
    const said = '저는 학생입니다';
    const { responses, error } = await v2Stream({ recognizer: RECOGNIZER, streamingConfig: config('chirp_2') }, synthesizeMicrophonePcm(said, { sampleRateHertz: 16_000 }));
    expect(error).toBeUndefined();
    const results = responses.flatMap((r) => r.results ?? []);
    expect(results.some((r) => !r.isFinal && r.alternatives[0].transcript === '저는')).toBe(true);
    const final = results.find((r) => r.isFinal)!;
    expect(final.alternatives[0].transcript).toBe(said);
    expect(Number(final.resultEndOffset.seconds)).toBeGreaterThanOrEqual(2);
    expect(responses.at(-1)!.metadata.totalBilledDuration.seconds).toBe(String(Math.ceil(synthesizeMicrophonePcm(said, { sampleRateHertz: 16_000 }).length / 32_000)));
    expect(hits.count('google-stt', 'chirp_2')).toBe(1);
  });

  it('refuses Chirp 2 from the global location, a bad recognizer name, and LINEAR16 without a rate', async () => {
    const global = await v2Stream({ recognizer: 'projects/p/locations/global/recognizers/_', streamingConfig: config('chirp_2') }, new Uint8Array(3200));
    expect(global.error?.details).toContain('does not exist in the location named "global"');
    const bad = await v2Stream({ recognizer: 'recognizers/_', streamingConfig: config('chirp_2') }, new Uint8Array(3200));
    expect(bad.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    const noRate = await v2Stream(
      { recognizer: RECOGNIZER, streamingConfig: { config: { explicitDecodingConfig: { encoding: 'LINEAR16' }, model: 'chirp_2', languageCodes: ['ko-KR'] } } },
      new Uint8Array(3200),
    );
    expect(noRate.error?.details).toContain('sample_rate_hertz is required');
  });
});

type SynthResponse = { audioContent?: Uint8Array };

function synthesizeStream(pieces: string[], config: Record<string, unknown> = {}) {
  const stream = tts.streamingSynthesize({ timeout: 10_000, retry: null } as never) as unknown as NodeJS.ReadWriteStream & { write(x: unknown): boolean; on(e: string, f: (x: never) => void): unknown };
  const chunks: Uint8Array[] = [];
  const times: number[] = [];
  const done = new Promise<{ chunks: Uint8Array[]; times: number[]; error?: grpc.ServiceError }>((resolve) => {
    stream.on('data', (r: SynthResponse) => {
      chunks.push(new Uint8Array(r.audioContent!));
      times.push(Date.now());
    });
    stream.on('error', (error: grpc.ServiceError) => resolve({ chunks, times, error }));
    stream.on('end', () => resolve({ chunks, times }));
  });
  stream.write({ streamingConfig: { voice: { languageCode: 'ko-KR', name: 'ko-KR-Chirp3-HD-Aoede' }, ...config } });
  for (const text of pieces) stream.write({ input: { text } });
  stream.end();
  return done;
}

const joined = (chunks: Uint8Array[]) => Buffer.concat(chunks.map((c) => Buffer.from(c)));

describe('StreamingSynthesize with the real TextToSpeechClient', () => {
  it('answers headerless PCM 24 kHz in chunks, sentence by sentence, as long as the speech', async () => {
    const { chunks, error } = await synthesizeStream(['안녕하세요. 오늘', '은 날씨가 좋네요.']);
    expect(error).toBeUndefined();
    expect(chunks.length).toBeGreaterThan(3);
    const pcm = joined(chunks);
    expect(pcm.subarray(0, 4).toString('latin1')).not.toBe('RIFF');
    const audioMs = (pcm.length / 2 / 24_000) * 1000;
    // Two sentences back to back: the second loses its leading edge silence.
    expect(audioMs).toBeCloseTo(speechDurationMs('안녕하세요.') + speechDurationMs('오늘은 날씨가 좋네요.') - 100, -1);
    expect(chunks[0]!.length).toBe(0.2 * 24_000 * 2);
    expect(hits.count('google-tts', 'ko-KR-Chirp3-HD-Aoede')).toBe(1);
  });

  it('answers OGG_OPUS as one valid Ogg Opus stream whose length is the speech', async () => {
    const text = '잘 부탁드립니다.';
    const { chunks, error } = await synthesizeStream([text], { streamingAudioConfig: { audioEncoding: 'OGG_OPUS' } });
    expect(error).toBeUndefined();
    const ogg = joined(chunks);
    expect(oggOpusProblem(ogg)).toBeUndefined();
    expect(oggOpusDurationMs(ogg)).toBeCloseTo(Math.ceil(speechDurationMs(text) / 20) * 20, -2);
  });

  it('refuses non-Chirp 3 HD voices, LINEAR16, input before the config, and speaking rates above 2', async () => {
    const stream = tts.streamingSynthesize({ timeout: 5000 } as never) as unknown as NodeJS.ReadWriteStream & { write(x: unknown): boolean };
    const first = await new Promise<grpc.ServiceError>((resolve) => {
      stream.on('error', resolve);
      stream.on('data', () => undefined);
      stream.write({ input: { text: '안녕' } });
    });
    expect(first.details).toContain('streaming_config');
    const bad = [
      { voice: { languageCode: 'ko-KR', name: 'ko-KR-Wavenet-A' } },
      { streamingAudioConfig: { audioEncoding: 'LINEAR16' } },
      { streamingAudioConfig: { audioEncoding: 'PCM', speakingRate: 3 } },
    ];
    for (const config of bad) {
      const tts2 = tts.streamingSynthesize({ timeout: 5000 } as never) as unknown as NodeJS.ReadWriteStream & { write(x: unknown): boolean };
      const err = await new Promise<grpc.ServiceError>((resolve) => {
        tts2.on('error', resolve);
        tts2.on('data', () => undefined);
        tts2.write({ streamingConfig: { voice: { languageCode: 'ko-KR', name: 'ko-KR-Chirp3-HD-Aoede' }, ...config } });
        tts2.write({ input: { text: '안녕.' } });
        tts2.end();
      });
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    }
  });

  it('paces chunks and shows the streaming faults', async () => {
    emulator.streamTiming.set({ synthesizeFirstChunkMs: 120, synthesizePerChunkMs: 30 });
    const started = Date.now();
    const paced = await synthesizeStream(['안녕하세요.']);
    expect(paced.times[0]! - started).toBeGreaterThanOrEqual(115);
    for (let i = 1; i < paced.times.length; i++) expect(paced.times[i]! - paced.times[i - 1]!).toBeGreaterThanOrEqual(25);
    emulator.streamTiming.reset();

    faults.add({ target: 'google-tts', fault: { kind: 'fail_before_first_result' }, times: 1 });
    let out = await synthesizeStream(['안녕하세요.']);
    expect(out.error?.code).toBe(grpc.status.UNAVAILABLE);
    expect(out.chunks).toHaveLength(0);
    faults.add({ target: 'google-tts', fault: { kind: 'fail_mid_stream', afterResults: 2 }, times: 1 });
    out = await synthesizeStream(['안녕하세요.']);
    expect(out.error?.code).toBe(grpc.status.UNAVAILABLE);
    expect(out.chunks).toHaveLength(2);
  });
});
