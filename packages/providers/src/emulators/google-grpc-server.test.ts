import { SpeechClient } from '@google-cloud/speech';
import { TextToSpeechClient } from '@google-cloud/text-to-speech';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { mp3Info, pcmToWav, speechDurationMs, synthesizeWav, wavInfo } from './audio.js';
import { FaultScript, HitCounter } from './faults.js';
import { GoogleGrpcEmulator } from './google-grpc-server.js';

const faults = new FaultScript(1);
const hits = new HitCounter();
const emulator = new GoogleGrpcEmulator(faults, hits);
let stt: SpeechClient;
let tts: TextToSpeechClient;
const call = { retry: null, timeout: 10_000 };

beforeAll(async () => {
  const port = await emulator.listen('127.0.0.1', 0);
  const clientOptions = { apiEndpoint: '127.0.0.1', port, sslCreds: grpc.credentials.createInsecure(), universeDomain: 'googleapis.com' };
  stt = new SpeechClient(clientOptions);
  tts = new TextToSpeechClient(clientOptions);
});
afterAll(async () => {
  await stt.close();
  await tts.close();
  await emulator.close();
});
beforeEach(() => {
  faults.clear();
  hits.reset();
});

async function synthesize(text: string, audioConfig: Record<string, unknown> = { audioEncoding: 'LINEAR16' }, name = 'ko-KR-Wavenet-A') {
  const [res] = await tts.synthesizeSpeech({ input: { text }, voice: { languageCode: 'ko-KR', name }, audioConfig }, call);
  return new Uint8Array(res.audioContent as Uint8Array);
}

async function recognize(content: Uint8Array, config: Record<string, unknown> = { encoding: 'LINEAR16', languageCode: 'ko-KR' }, timeout = 10_000) {
  const [res] = await stt.recognize({ config, audio: { content } }, { retry: null, timeout });
  return res;
}

async function grpcError(p: Promise<unknown>): Promise<{ code: number; details: string; statusDetails?: unknown[]; metadata?: grpc.Metadata }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as never;
}

const transcriptOf = (res: Awaited<ReturnType<typeof recognize>>) => (res.results ?? []).map((r) => r.alternatives?.[0]?.transcript ?? '').join(' ');

describe('Google Speech and TextToSpeech emulator with the real clients', () => {
  it('round-trips Korean text: SynthesizeSpeech LINEAR16 -> Recognize', async () => {
    const text = '안녕하세요. 저는 한국어를 배우는 학생입니다! 잘 부탁드립니다.';
    const wav = await synthesize(text, { audioEncoding: 'LINEAR16', sampleRateHertz: 16_000 });
    const info = wavInfo(wav)!;
    expect(info).toMatchObject({ sampleRate: 16_000, channels: 1, bitsPerSample: 16, text });
    expect(info.durationMs).toBe(speechDurationMs(text));
    const res = await recognize(wav, { encoding: 'LINEAR16', sampleRateHertz: 16_000, languageCode: 'ko-KR' });
    expect(transcriptOf(res)).toBe(text);
    expect(res.results).toHaveLength(3);
    expect(res.results![0]!.alternatives![0]!.confidence).toBeCloseTo(0.92);
    expect(res.totalBilledTime).toEqual({ seconds: String(Math.ceil(info.durationMs / 1000)), nanos: 0 });
    const lastEnd = res.results!.at(-1)!.resultEndTime!;
    expect(Number(lastEnd.seconds) * 1000 + lastEnd.nanos! / 1e6).toBe(info.durationMs);
    expect(hits.count('google-tts', 'ko-KR-Wavenet-A')).toBe(1);
    expect(hits.count('google-stt', 'default')).toBe(1);
  });

  it('synthesizes MP3 with valid frames, scales duration with speakingRate, and recognizes it', async () => {
    const text = '오늘은 날씨가 정말 좋네요.';
    const mp3 = await synthesize(text, { audioEncoding: 'MP3' }, 'ko-KR-Chirp3-HD-Kore');
    const info = mp3Info(mp3)!;
    expect(info).toMatchObject({ sampleRateHertz: 32_000, truncated: false, text });
    const fast = mp3Info(await synthesize(text, { audioEncoding: 'MP3', speakingRate: 2 }))!;
    expect(fast.durationMs).toBeLessThan(info.durationMs * 0.6);
    expect(transcriptOf(await recognize(mp3, { encoding: 'MP3', sampleRateHertz: 32_000, languageCode: 'ko-KR', model: 'latest_short' }))).toBe(text);
    expect(hits.count('google-stt', 'latest_short')).toBe(1);
  });

  it('reads SSML text and lists voices', async () => {
    const [res] = await tts.synthesizeSpeech(
      { input: { ssml: '<speak>반갑습니다 <break time="200ms"/> 선생님</speak>' }, voice: { languageCode: 'ko-KR' }, audioConfig: { audioEncoding: 'LINEAR16' } },
      call,
    );
    expect(wavInfo(res.audioContent as Uint8Array)!.text).toBe('반갑습니다 선생님');
    const [voices] = await tts.listVoices({ languageCode: 'ko-KR' }, call);
    expect(voices.voices!.map((v) => v.name)).toContain('ko-KR-Neural2-A');
    expect(voices.voices!.every((v) => v.languageCodes![0] === 'ko-KR')).toBe(true);
  });

  it('hears nothing in audio without embedded text and bills its header duration', async () => {
    const silence = pcmToWav(new Uint8Array(16_000 * 2 * 2.5), 16_000);
    const res = await recognize(silence);
    expect(res.results ?? []).toEqual([]);
    expect(res.totalBilledTime).toEqual({ seconds: '3', nanos: 0 });
  });

  it('enforces the sync limits and request checks like Google (INVALID_ARGUMENT)', async () => {
    const long = pcmToWav(new Uint8Array(8000 * 2 * 61), 8000);
    const tooLong = await grpcError(recognize(long));
    expect(tooLong.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(tooLong.details).toContain('Sync input too long');
    const big = new Uint8Array(10 * 1024 * 1024 + 1);
    expect((await grpcError(recognize(big, { encoding: 'FLAC', languageCode: 'ko-KR' }))).details).toContain('payload size exceeds');
    const mismatch = await grpcError(recognize(synthesizeWav('가', { sampleRateHertz: 24_000 }), { encoding: 'LINEAR16', sampleRateHertz: 16_000, languageCode: 'ko-KR' }));
    expect(mismatch.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((await grpcError(recognize(synthesizeWav('가'), { encoding: 'LINEAR16' }))).code).toBe(grpc.status.INVALID_ARGUMENT);

    const tooMuchText = '가'.repeat(1667); // 5001 bytes
    const err = await grpcError(synthesize(tooMuchText));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain('5000 bytes');
    expect((await grpcError(synthesize('가', { audioEncoding: 'OGG_OPUS' }))).details).toContain('OGG_OPUS is not supported');
    expect((await grpcError(synthesize('가', { audioEncoding: 'LINEAR16' }, 'ko-KR-Wavenet-Z'))).details).toContain('does not exist');
    expect((await grpcError(synthesize('가', {}))).code).toBe(grpc.status.INVALID_ARGUMENT);
  });
});

describe('Google gRPC emulator faults, seen by the real clients', () => {
  it('fails with RESOURCE_EXHAUSTED carrying RetryInfo that google-gax decodes, with no client retry', async () => {
    faults.add({ target: 'google-stt', fault: { kind: 'status', status: 429, retryAfterSeconds: 2.5 }, times: 1 });
    const err = await grpcError(recognize(synthesizeWav('가')));
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(err.statusDetails).toEqual([expect.objectContaining({ retryDelay: expect.objectContaining({ nanos: 500_000_000 }) })]);
    expect(Number((err.statusDetails![0] as { retryDelay: { seconds: unknown } }).retryDelay.seconds)).toBe(2);
    expect(err.metadata!.get('google.rpc.retryinfo-bin')[0]).toBeInstanceOf(Buffer);
    expect(hits.count('google-stt')).toBe(1);
    expect(transcriptOf(await recognize(synthesizeWav('가')))).toBe('가');
  });

  it.each(['google-stt', 'google-tts'] as const)('answers a bad API key on %s like Google: INVALID_ARGUMENT with an ErrorInfo trailer google-gax promotes', async (target) => {
    faults.add({ target, fault: { kind: 'api_key_invalid' }, times: 1 });
    const err = (await grpcError(target === 'google-stt' ? recognize(synthesizeWav('가')) : synthesize('가'))) as Awaited<ReturnType<typeof grpcError>> & {
      reason?: string;
      domain?: string;
      errorInfoMetadata?: Record<string, string>;
    };
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toBe('API key not valid. Please pass a valid API key.');
    expect([err.reason, err.domain]).toEqual(['API_KEY_INVALID', 'googleapis.com']);
    expect(err.errorInfoMetadata).toEqual({ service: target === 'google-stt' ? 'speech.googleapis.com' : 'texttospeech.googleapis.com' });
    expect(err.statusDetails).toEqual([
      expect.objectContaining({ reason: 'API_KEY_INVALID', domain: 'googleapis.com' }),
      expect.objectContaining({ locale: 'en-US', message: 'API key not valid. Please pass a valid API key.' }),
    ]);
    expect(hits.count(target)).toBe(1);
  });

  it('maps an HTTP status to its gRPC code, per voice', async () => {
    faults.add({ target: 'google-tts', model: 'ko-KR-Standard-A', fault: { kind: 'status', status: 503, message: 'overloaded' } });
    const err = await grpcError(synthesize('가', undefined, 'ko-KR-Standard-A'));
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    expect(err.details).toBe('overloaded');
    expect(await synthesize('가', undefined, 'ko-KR-Standard-B')).toBeInstanceOf(Uint8Array);
    expect(hits.count('google-tts', 'ko-KR-Standard-A')).toBe(1);
  });

  it('truncates TTS audio: the header promises more and STT hears only the start', async () => {
    faults.add({ target: 'google-tts', fault: { kind: 'truncated_audio' } });
    const text = '하나 둘 셋 넷 다섯 여섯 일곱 여덟';
    const cut = await synthesize(text);
    const info = wavInfo(cut)!;
    expect(info.dataLength).toBeLessThan(info.declaredDataLength!);
    const res = await recognize(cut);
    expect(text.startsWith(transcriptOf(res))).toBe(true);
    expect(transcriptOf(res).length).toBeLessThan(text.length / 2 + 2);
    expect(res.results![0]!.alternatives![0]!.confidence).toBeCloseTo(0.61);
  });

  it('hangs until the client deadline passes, and counts the cancelled call', async () => {
    faults.add({ target: 'google-stt', fault: { kind: 'hang' } });
    const err = await grpcError(recognize(synthesizeWav('가'), undefined, 300));
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await vi.waitFor(() => expect(hits.aborted('google-stt', 'default')).toBe(1));
    expect(hits.count('google-stt')).toBe(1);
  });

  it('delays an answer', async () => {
    faults.add({ target: 'google-tts', fault: { kind: 'delay', ms: 20 }, times: 1 });
    expect(wavInfo(await synthesize('가'))!.text).toBe('가');
  });
});
