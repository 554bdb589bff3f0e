// A live turn on scripted providers (offline): the streaming recogniser never answers, so its
// buffered audio goes to a sync one; the reply is spoken sentence by sentence as it is written.
// Run: npx tsx packages/core/test/streaming-example.ts
import { createAiClient } from '@korean-together/core';
import { ArraySink, fakeStt, fakeSttStream, fakeTts } from '@korean-together/core/testing';

const sink = new ArraySink();
const ai = createAiClient({
  policy: {
    capabilities: {
      stt: { chain: ['live', 'whisper'], retry: { maxAttempts: 1 }, firstResultTimeoutMs: 200 },
      tts: { chain: ['voice'], firstAudioTimeoutMs: 2_000 },
    },
  },
  providers: {
    live: fakeSttStream([{ stall: true }]), // streams, but never answers
    whisper: fakeStt([{ ok: true }]), // no streaming: gets the buffered audio as one request
    voice: fakeTts([{ ok: true }]), // no streaming: speaks sentence by sentence
  },
  sinks: [sink],
});

/** 100 ms of 16 kHz 16-bit PCM every 100 ms, like a microphone. */
async function* microphone(): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 100));
    yield new Uint8Array(3_200);
  }
}

/** A tutor's reply arriving in pieces, as from an LLM. */
async function* reply(): AsyncGenerator<string> {
  yield '잘했어요! 다시 ';
  yield '한 번 말해 볼까요?';
}

export async function main(): Promise<string[]> {
  const lines: string[] = [];
  const heard = ai.stt.transcribeStream(microphone(), { encoding: 'LINEAR16', sampleRateHertz: 16_000, maxAudioMs: 30_000 });
  for await (const e of heard) lines.push(`${e.type}: ${e.transcript}`);
  const { transcript, meta } = await heard.result;
  lines.push(`heard "${transcript}" from ${meta.providerKey} after ${meta.attempts.length} attempts`);

  const spoken = ai.tts.synthesizeStream(reply(), { voice: 'ko-KR-Wavenet-A' });
  let chunks = 0;
  for await (const _chunk of spoken) chunks++; // play each chunk as it comes
  lines.push(`${chunks} audio chunks, ${(await spoken.result).characters} characters billed`);
  await ai.close();
  lines.push(`${sink.records.length} usage rows`);
  return lines;
}

if (process.argv[1]?.endsWith('streaming-example.ts')) main().then((lines) => console.log(lines.join('\n')));
