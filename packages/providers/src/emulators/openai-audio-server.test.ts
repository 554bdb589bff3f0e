import { describe, expect, it, vi } from 'vitest';
import { useEmulators } from '../../../../test-support/emulators.js';
import { mp3Info, pcmToWav, speechDurationMs, synthesizeMp3, synthesizeWav, wavInfo } from './audio.js';

const emu = useEmulators({ seed: 5 });

function transcribe(file: Uint8Array, fields: Record<string, string> = { model: 'whisper-1' }, opts: { name?: string; headers?: Record<string, string>; signal?: AbortSignal } = {}) {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(file)]), opts.name ?? 'answer.wav');
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return fetch(`${emu.whisper.baseUrl}/v1/audio/transcriptions`, {
    method: 'POST',
    body: form,
    headers: { authorization: 'Bearer emulator', ...opts.headers },
    ...(opts.signal && { signal: opts.signal }),
  });
}

function speak(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return fetch(`${emu.httpTts.baseUrl}/v1/audio/speech`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer emulator', ...headers },
    body: JSON.stringify({ model: 'tts-1', voice: 'alloy', ...body }),
  });
}

describe('OpenAI-compatible audio emulators', () => {
  it('round-trips Korean text: /v1/audio/speech (wav) -> /v1/audio/transcriptions', async () => {
    const text = '한국어 공부는 재미있어요. 매일 연습해요!';
    const res = await speak({ input: text, response_format: 'wav' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    const wav = new Uint8Array(await res.arrayBuffer());
    expect(wavInfo(wav)).toMatchObject({ sampleRate: 24_000, channels: 1, bitsPerSample: 16, durationMs: speechDurationMs(text) });
    const stt = await transcribe(wav);
    expect(stt.status).toBe(200);
    expect(await stt.json()).toEqual({ text, usage: { type: 'duration', seconds: Math.ceil(speechDurationMs(text) / 1000) } });
    expect(emu.hits.count('http-tts', 'tts-1')).toBe(1);
    expect(emu.hits.count('http-tts', 'alloy')).toBe(1);
    expect(emu.hits.count('whisper', 'whisper-1')).toBe(1);
  });

  it('speaks MP3 by default, scaled by speed, and transcribes it with verbose_json', async () => {
    const text = '감사합니다. 안녕히 가세요.';
    const res = await speak({ input: text });
    expect(res.headers.get('content-type')).toBe('audio/mpeg');
    const mp3 = new Uint8Array(await res.arrayBuffer());
    const info = mp3Info(mp3)!;
    expect(info).toMatchObject({ sampleRateHertz: 32_000, truncated: false });
    const fast = mp3Info(new Uint8Array(await (await speak({ input: text, speed: 2 })).arrayBuffer()))!;
    expect(fast.durationMs).toBeLessThan(info.durationMs * 0.6);
    const verbose = (await (await transcribe(mp3, { model: 'whisper-1', response_format: 'verbose_json', language: 'ko' }, { name: 'a.mp3' })).json()) as {
      task: string;
      language: string;
      duration: number;
      text: string;
      segments: { text: string; start: number; end: number }[];
    };
    expect(verbose).toMatchObject({ task: 'transcribe', language: 'korean', text, duration: Math.round(info.durationMs / 10) / 100 });
    expect(verbose.segments.map((s) => s.text)).toEqual(['감사합니다.', '안녕히 가세요.']);
    expect(verbose.segments.at(-1)!.end).toBeCloseTo(info.durationMs / 1000, 2);
    // What OpenAI billed sits beside the measured duration: whole seconds, rounded up.
    expect((verbose as unknown as { usage: unknown }).usage).toEqual({ type: 'duration', seconds: Math.ceil(info.durationMs / 1000) });
  });

  it.each(['gpt-4o-transcribe', 'gpt-4o-mini-transcribe'])('answers %s in json with token usage, and refuses verbose_json like OpenAI', async (model) => {
    const text = '저는 한국어를 공부해요.';
    const wav = synthesizeWav(text);
    const res = await transcribe(wav, { model, response_format: 'json', prompt: 'Korean lesson' });
    expect(res.status).toBe(200);
    const audioTokens = Math.ceil((speechDurationMs(text) / 1000) * 10);
    const textTokens = 4; // 'Korean lesson': 13 characters, four to a token
    const outputTokens = 11; // ten Hangul syllables, one token each, plus one for the two spaces and the full stop
    expect(await res.json()).toEqual({
      text,
      usage: {
        type: 'tokens',
        input_tokens: audioTokens + textTokens,
        input_token_details: { text_tokens: textTokens, audio_tokens: audioTokens },
        output_tokens: outputTokens,
        total_tokens: audioTokens + textTokens + outputTokens,
      },
    });
    const verbose = await transcribe(wav, { model, response_format: 'verbose_json' });
    expect(verbose.status).toBe(400);
    expect(await verbose.json()).toEqual({
      error: {
        message: `response_format 'verbose_json' is not compatible with model '${model}'. Use 'json' or 'text' instead.`,
        type: 'invalid_request_error',
        param: 'response_format',
        code: 'unsupported_value',
      },
    });
  });

  it('reports no usage for a self-hosted model, as faster-whisper servers do', async () => {
    const res = await transcribe(synthesizeWav('네'), { model: 'Systran/faster-whisper-large-v3', response_format: 'verbose_json' });
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ text: '네', duration: expect.any(Number) });
    expect(body).not.toHaveProperty('usage');
  });

  it('returns raw 24 kHz PCM, plain text, SRT and VTT', async () => {
    const pcm = new Uint8Array(await (await speak({ input: '가나', response_format: 'pcm' })).arrayBuffer());
    expect(pcm.length).toBe(Math.round((speechDurationMs('가나') * 24_000) / 1000) * 2);
    const wav = synthesizeWav('첫 문장. 둘째 문장.');
    expect(await (await transcribe(wav, { model: 'whisper-1', response_format: 'text' })).text()).toBe('첫 문장. 둘째 문장.\n');
    expect(await (await transcribe(wav, { model: 'whisper-1', response_format: 'srt' })).text()).toMatch(/^1\n00:00:00,000 --> 00:00:0\d,\d{3}\n첫 문장\.\n\n2\n/);
    expect(await (await transcribe(wav, { model: 'whisper-1', response_format: 'vtt' })).text()).toMatch(/^WEBVTT\n\n00:00:00\.000 --> /);
  });

  it('transcribes audio without embedded text as empty, with the duration from the header', async () => {
    const res = await transcribe(pcmToWav(new Uint8Array(16_000 * 2 * 3), 16_000), { model: 'whisper-1', response_format: 'verbose_json' });
    expect(await res.json()).toMatchObject({ text: '', duration: 3, segments: [] });
  });

  it('validates requests the way OpenAI does', async () => {
    const noModel = await transcribe(synthesizeWav('가'), {});
    expect(noModel.status).toBe(400);
    expect(await noModel.json()).toEqual({ error: { message: 'you must provide a model parameter', type: 'invalid_request_error', param: 'model', code: null } });
    expect((await transcribe(synthesizeWav('가'), undefined, { name: 'notes.txt' })).status).toBe(400);
    expect((await transcribe(new Uint8Array([1, 2, 3, 4]), undefined, { name: 'x.wav' })).status).toBe(400);
    expect((await transcribe(synthesizeWav('가'), undefined, { headers: { authorization: 'Token abc' } })).status).toBe(401);
    expect((await transcribe(synthesizeWav('가'), undefined, { headers: { authorization: '' } })).status).toBe(401);
    expect((await speak({ input: '' })).status).toBe(400);
    expect((await speak({ input: '가'.repeat(4097) })).status).toBe(400);
    expect((await speak({ input: '가', voice: undefined })).status).toBe(400);
    expect((await speak({ input: '가', speed: 9 })).status).toBe(400);
    const opus = await speak({ input: '가', response_format: 'opus' });
    expect(opus.status).toBe(400);
    expect(((await opus.json()) as { error: { message: string } }).error.message).toContain('not supported by the emulator');
  });

  it('accepts a base URL with or without /v1', async () => {
    const res = await fetch(`${emu.httpTts.baseUrl}/audio/speech`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tts-1', voice: 'nova', input: '네' }),
    });
    expect(res.status).toBe(200);
  });

  it('refuses an upload over 25 MB with 413', async () => {
    const res = await transcribe(new Uint8Array(25 * 1024 * 1024 + 10), undefined, { name: 'big.wav' });
    expect(res.status).toBe(413);
  });
});

describe('OpenAI audio emulator faults', () => {
  it('answers a scripted 429 with Retry-After in the OpenAI error shape', async () => {
    emu.faults.add({ target: 'whisper', fault: { kind: 'status', status: 429, retryAfterSeconds: 7 }, times: 1 });
    const res = await transcribe(synthesizeWav('가'));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(await res.json()).toMatchObject({ error: { type: 'requests', code: 'rate_limit_exceeded' } });
    expect((await transcribe(synthesizeWav('가'))).status).toBe(200);
    expect(emu.hits.count('whisper')).toBe(2);
  });

  it('sends retry-after-ms alone when asked, as OpenAI does', async () => {
    emu.faults.add({ target: 'http-tts', fault: { kind: 'status', status: 429, retryAfterMs: 1500 }, times: 1 });
    const res = await speak({ input: '가' });
    expect(res.status).toBe(429);
    expect([res.headers.get('retry-after-ms'), res.headers.get('retry-after')]).toEqual(['1500', null]);
  });

  it.each(['whisper', 'http-tts'] as const)('answers insufficient_quota and a bad API key on %s like OpenAI', async (target) => {
    const send = () => (target === 'whisper' ? transcribe(synthesizeWav('가')) : speak({ input: '가' }));
    emu.faults.add({ target, fault: { kind: 'insufficient_quota' }, times: 1 });
    const quota = await send();
    expect(quota.status).toBe(429);
    expect(quota.headers.get('retry-after')).toBeNull();
    expect(await quota.json()).toEqual({
      error: { message: expect.stringMatching(/^You exceeded your current quota/), type: 'insufficient_quota', param: null, code: 'insufficient_quota' },
    });
    emu.faults.add({ target, fault: { kind: 'api_key_invalid' }, times: 1 });
    const badKey = await send();
    expect(badKey.status).toBe(401);
    expect(await badKey.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_api_key' } });
    expect((await send()).status).toBe(200);
  });

  it('sends malformed JSON from Whisper', async () => {
    emu.faults.add({ target: 'whisper', fault: { kind: 'malformed_json' } });
    const res = await transcribe(synthesizeWav('안녕하세요'));
    expect(res.status).toBe(200);
    await expect(res.json()).rejects.toThrow(SyntaxError);
  });

  it('truncates speech audio for one voice only', async () => {
    emu.faults.add({ target: 'http-tts', model: 'nova', fault: { kind: 'truncated_audio' } });
    const cut = mp3Info(new Uint8Array(await (await speak({ input: '하나 둘 셋 넷', voice: 'nova' })).arrayBuffer()))!;
    expect(cut.truncated).toBe(true);
    expect(cut.durationMs).toBeLessThan(cut.declaredDurationMs!);
    const whole = mp3Info(new Uint8Array(await (await speak({ input: '하나 둘 셋 넷', voice: 'alloy' })).arrayBuffer()))!;
    expect(whole.truncated).toBe(false);
  });

  it('hangs until the client aborts, and counts the abort', async () => {
    emu.faults.add({ target: 'whisper', fault: { kind: 'hang' } });
    const ctl = new AbortController();
    const pending = transcribe(synthesizeMp3('가'), undefined, { name: 'a.mp3', signal: ctl.signal });
    await vi.waitFor(() => expect(emu.hits.count('whisper', 'whisper-1')).toBe(1));
    ctl.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await vi.waitFor(() => expect(emu.hits.aborted('whisper', 'whisper-1')).toBe(1));
    expect(emu.hits.aborted('http-tts')).toBe(0);
  });
});
