// Call options are checked like the request: a bad one is an invalid_request naming the option,
// before any budget is reserved or provider called.
import { describe, expect, it } from 'vitest';
import { failure } from '../../test/support/failure.js';
import { createAiClient } from '../client.js';
import { fakeStt } from '../testing/fakes.js';

const sttReq = { audio: new Uint8Array(3200), encoding: 'LINEAR16' as const, sampleRateHertz: 16000 };

describe('call options', () => {
  it('validates call options, naming the option', async () => {
    const a = fakeStt([{ ok: true }]);
    const client = createAiClient({ policy: { budget: { perDayUsd: 1 } }, providers: { a } });
    for (const [opts, text] of [
      [{ deadlineMs: Number.NaN }, 'options.deadlineMs'],
      [{ deadlineMs: 3e9 }, 'options.deadlineMs: must be <= 2147483647'],
      [{ signal: {} as AbortSignal }, 'options.signal: must be an AbortSignal'],
      [{ sessionId: '' }, 'options.sessionId: must not be empty'],
    ] as const) {
      const e = await failure(client.stt.transcribe(sttReq, opts));
      expect(e.code).toBe('invalid_request');
      expect(e.message).toContain(text);
    }
    expect(a.calls).toHaveLength(0);
  });
});
