// An error a provider throws that is not an AiError keeps only its kind as the cause: its
// message may carry a key in a URL or the learner's words from a request body.
import { describe, expect, it } from 'vitest';
import { failure } from '../../test/support/failure.js';
import { createAiClient } from '../client.js';
import { ArraySink, fakeStt } from '../testing/fakes.js';
import type { AiError } from './ai-error.js';

const sttReq = { audio: new Uint8Array(3200), encoding: 'LINEAR16' as const, sampleRateHertz: 16000 };

describe('foreign errors', () => {
  it('keep only their kind as the cause', async () => {
    const a = fakeStt([{ ok: true }]);
    a.transcribe = async () => {
      throw Object.assign(new TypeError('request to https://x/?key=SECRET failed with body {"answer":"저는"}'), { code: 'ECONNRESET' });
    };
    const client = createAiClient({ policy: { capabilities: { stt: { retry: { maxAttempts: 1 } } } }, providers: { a }, sinks: [new ArraySink()] });
    const e = await failure(client.stt.transcribe(sttReq));
    const inner = e.cause as AiError;
    expect(inner.cause).toEqual({ kind: 'TypeError ECONNRESET' });
    expect(JSON.stringify({ m: e.message, c: inner.message, cc: inner.cause })).not.toMatch(/SECRET|저는/);
  });
});
