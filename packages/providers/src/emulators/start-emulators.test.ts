import { createServer } from 'node:net';
import { SpeechClient } from '@google-cloud/speech';
import { TextToSpeechClient } from '@google-cloud/text-to-speech';
import { GoogleGenAI } from '@google/genai';
import { describe, expect, it, vi } from 'vitest';
import { evalUserPrompt } from '@korean-together/core/provider-kit';
import { startEmulators, synthesizeWav } from './index.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('startEmulators', () => {
  it('returns client options that the real clients use as they are', async () => {
    const emu = await startEmulators();
    try {
      const ai = new GoogleGenAI({ apiKey: 'emulator', httpOptions: emu.gemini.httpOptions });
      const res = await ai.models.generateContent({
        model: 'gemini-2.5-flash',
        contents: evalUserPrompt({ prompt: 'greet', expectedAnswer: '안녕하세요', targetFormality: 'haeyo', learnerAnswer: '안녕하세요' }),
        config: { responseMimeType: 'application/json' },
      });
      expect(JSON.parse(res.text!)).toMatchObject({ score: 100 });
      expect(emu.gemini.baseUrl).toBe(emu.gemini.httpOptions.baseUrl);

      const tts = new TextToSpeechClient(emu.google.clientOptions);
      const stt = new SpeechClient(emu.google.clientOptions);
      const [spoken] = await tts.synthesizeSpeech(
        { input: { text: '반가워요' }, voice: { languageCode: 'ko-KR', name: 'ko-KR-Neural2-A' }, audioConfig: { audioEncoding: 'LINEAR16' } },
        { retry: null, timeout: 5000 },
      );
      const [heard] = await stt.recognize(
        { config: { encoding: 'LINEAR16', languageCode: 'ko-KR' }, audio: { content: spoken.audioContent } },
        { retry: null, timeout: 5000 },
      );
      expect(heard.results![0]!.alternatives![0]!.transcript).toBe('반가워요');
      expect(emu.google.port).toBe(emu.google.clientOptions.port);
      await Promise.all([tts.close(), stt.close()]);
      expect(new URL(emu.whisper.baseUrl).hostname).toBe('127.0.0.1');
      expect(new URL(emu.httpTts.baseUrl).port).not.toBe(new URL(emu.whisper.baseUrl).port);
    } finally {
      await emu.close();
    }
  });

  it('listens on the ports it is given, and fails clearly (closing the rest) when one is taken', async () => {
    const port = await freePort();
    const emu = await startEmulators({ ports: { gemini: port } });
    try {
      expect(emu.gemini.baseUrl).toBe(`http://127.0.0.1:${port}`);
      await expect(startEmulators({ ports: { gemini: port } })).rejects.toThrow(`gemini could not listen on 127.0.0.1:${port}`);
    } finally {
      await emu.close();
    }
    // The port is free again after close().
    const again = await startEmulators({ ports: { gemini: port } });
    await again.close();
  });

  it('points clients at loopback when bound to every interface', async () => {
    const emu = await startEmulators({ host: '0.0.0.0' });
    try {
      expect(new URL(emu.gemini.baseUrl).hostname).toBe('127.0.0.1');
      expect(emu.google.clientOptions.apiEndpoint).toBe('127.0.0.1');
      expect((await fetch(`${emu.gemini.baseUrl}/health`)).status).toBe(200);
    } finally {
      await emu.close();
    }
  });

  it('close() ends hung HTTP and gRPC requests in flight and does not count them as client aborts', async () => {
    const emu = await startEmulators();
    emu.faults.add({ target: 'gemini', fault: { kind: 'hang' } });
    emu.faults.add({ target: 'google-stt', fault: { kind: 'hang' } });
    emu.faults.add({ target: 'http-tts', fault: { kind: 'hang' } });
    const ai = new GoogleGenAI({ apiKey: 'emulator', httpOptions: emu.gemini.httpOptions });
    const stt = new SpeechClient(emu.google.clientOptions);
    const gemini = ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' }).then(
      () => 'answered',
      () => 'failed',
    );
    const speech = stt
      .recognize({ config: { encoding: 'LINEAR16', languageCode: 'ko-KR' }, audio: { content: synthesizeWav('가') } }, { retry: null, timeout: 60_000 })
      .then(
        () => 'answered',
        (e: { code?: number }) => `failed ${e.code}`,
      );
    const tts = fetch(`${emu.httpTts.baseUrl}/v1/audio/speech`, { method: 'POST', body: JSON.stringify({ model: 'tts-1', voice: 'alloy', input: '가' }) }).then(
      () => 'answered',
      () => 'failed',
    );
    await vi.waitFor(() => {
      expect(emu.hits.count('gemini')).toBe(1);
      expect(emu.hits.count('google-stt')).toBe(1);
      expect(emu.hits.count('http-tts')).toBe(1);
    });
    await emu.close();
    expect(await gemini).toBe('failed');
    expect(await tts).toBe('failed');
    expect(await speech).toMatch(/^failed (1|14)$/); // CANCELLED or UNAVAILABLE, as grpc-js reports a server shutdown
    expect(emu.hits.aborted('gemini') + emu.hits.aborted('google-stt') + emu.hits.aborted('http-tts')).toBe(0);
    await stt.close();
  });
});
