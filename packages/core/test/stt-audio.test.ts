// STT refuses bytes that are not what their encoding claims before any provider is called or
// paid; the emulators' synthesiser (what host apps feed the client in CI) and real encoder
// output still go through.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { synthesizeMp3, synthesizePcm, synthesizeWav } from '@korean-together/providers/emulators';
import { createAiClient, MemoryBudgetStore, type AudioEncoding } from '../src/index.js';
import { ArraySink, fakeStt } from '../src/testing/fakes.js';
import { failure } from './support/failure.js';

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`./fixtures/audio/${name}`, import.meta.url)));

function setup() {
  const sink = new ArraySink();
  const google = fakeStt([{ ok: true }], { name: 'google', modelId: 'google-stt/default' });
  const whisper = fakeStt([{ ok: true }], { name: 'whisper', modelId: 'whisper-1' });
  const store = new MemoryBudgetStore();
  const client = createAiClient({
    policy: { capabilities: { stt: { chain: ['google', 'whisper'] } }, budget: { perDayUsd: 10 } },
    providers: { google, whisper },
    sinks: [sink],
    budgetStore: store,
  });
  return { client, sink, google, whisper, store };
}

describe('STT audio that is not audio', () => {
  it.each<[string, Uint8Array, AudioEncoding]>([
    ['text labelled MP3', new TextEncoder().encode('안녕하세요, this is a text file. '.repeat(100)), 'MP3'],
    ['a PNG labelled FLAC', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Array(4_000).fill(0x42)]), 'FLAC'],
    ['random bytes labelled OGG_OPUS', Uint8Array.from({ length: 40_000 }, (_, i) => (i * 2_654_435_761) >>> 24), 'OGG_OPUS'],
    ['random bytes labelled WEBM_OPUS', Uint8Array.from({ length: 40_000 }, (_, i) => (i * 2_246_822_519) >>> 24), 'WEBM_OPUS'],
    ['10.4 MB of zeros labelled MP3', new Uint8Array(10_400_000), 'MP3'],
  ])('%s is invalid_request naming audio and the encoding, before any provider call, at no cost', async (_name, audio, encoding) => {
    const { client, sink, google, whisper, store } = setup();
    const e = await failure(client.stt.transcribe({ audio, encoding }));
    expect(e).toMatchObject({ code: 'invalid_request', retryable: false });
    expect(e.message).toContain(`invalid request: audio: does not parse as ${encoding}`);
    expect(google.calls).toHaveLength(0);
    expect(whisper.calls).toHaveLength(0);
    expect(sink.records).toHaveLength(0);
    expect(await store.usage(`day:${new Date().toISOString().slice(0, 10)}`)).toEqual({ spentMicro: 0, reservedMicro: 0 });
    await client.close();
  });
});

describe('STT audio that is audio', () => {
  it.each<[string, () => Uint8Array, AudioEncoding, number?]>([
    ["the emulators' WAV", () => synthesizeWav('저는 학생입니다'), 'LINEAR16'],
    ["the emulators' raw PCM", () => synthesizePcm('저는 학생입니다', { sampleRateHertz: 16_000 }), 'LINEAR16', 16_000],
    ["the emulators' MP3", () => synthesizeMp3('저는 학생입니다'), 'MP3'],
    ['LAME VBR MP3', () => fixture('vbr-xing.mp3'), 'MP3'],
    ['LAME CBR MP3 behind ID3v2', () => fixture('cbr-id3v2.mp3'), 'MP3'],
    ['24-bit extensible WAV', () => fixture('extensible.wav'), 'LINEAR16'],
    ['flac', () => fixture('tone.flac'), 'FLAC'],
    ['opusenc Ogg Opus', () => fixture('multipage.opus'), 'OGG_OPUS'],
    ['ffmpeg WebM Opus', () => fixture('tone.webm'), 'WEBM_OPUS'],
  ])('%s reaches the provider', async (_name, audio, encoding, sampleRateHertz) => {
    const { client, google, sink } = setup();
    const r = await client.stt.transcribe({ audio: audio(), encoding, ...(sampleRateHertz && { sampleRateHertz }) });
    expect(r.transcript).toBe('안녕하세요');
    expect(google.calls).toHaveLength(1);
    expect(sink.records).toHaveLength(1);
    await client.close();
  });
});
