// Sync STT's 60 s limit holds for compressed audio too, measured from its frames, and raw
// LINEAR16 needs a rate: both refused before any provider is called.
import { describe, expect, it } from 'vitest';
import { mp3OfMs } from '../../test/support/cbr-mp3.js';
import { failure } from '../../test/support/failure.js';
import { createAiClient } from '../client.js';
import { fakeStt } from '../testing/fakes.js';

describe('the synchronous STT length limit', () => {
  it('refuses compressed audio longer than 60 s, measured from its frames, and raw LINEAR16 without a rate', async () => {
    const a = fakeStt([{ ok: true }]);
    const client = createAiClient({ providers: { a } });
    const long = await failure(client.stt.transcribe({ audio: mp3OfMs(61_000), encoding: 'MP3' }));
    expect(long).toMatchObject({ code: 'invalid_request' });
    expect(long.message).toMatch(/audio: 61\d{3} ms is longer than the 60000 ms synchronous limit/);
    expect((await client.stt.transcribe({ audio: mp3OfMs(5_000), encoding: 'MP3' })).transcript).toBe('안녕하세요');
    const raw = await failure(client.stt.transcribe({ audio: new Uint8Array(3200), encoding: 'LINEAR16' }));
    expect(raw.message).toContain('sampleRateHertz: required for LINEAR16 audio without a WAV header');
    expect(a.calls).toHaveLength(1);
  });
});
