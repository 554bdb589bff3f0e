import { afterEach, describe, expect, it } from 'vitest';
import { createAiClient } from '../client.js';
import { isAiError } from '../errors/ai-error.js';
import { ArraySink, fakeStt } from '../testing/fakes.js';
import { abortSubscribers, onAbort } from './shared-abort.js';

describe('onAbort', () => {
  it('attaches one listener per signal and detaches it when the last subscriber leaves', () => {
    const ac = new AbortController();
    const added: string[] = [];
    const add = ac.signal.addEventListener.bind(ac.signal);
    ac.signal.addEventListener = ((type: string, listener: EventListener, options?: AddEventListenerOptions) => {
      added.push(type);
      add(type, listener, options);
    }) as typeof ac.signal.addEventListener;
    const offs = Array.from({ length: 20 }, () => onAbort(ac.signal, () => {}));
    expect(added).toEqual(['abort']);
    expect(abortSubscribers(ac.signal)).toBe(20);
    for (const off of offs) off();
    expect(abortSubscribers(ac.signal)).toBe(0);
    // A new subscriber after everyone left attaches a fresh dispatcher.
    let fired = 0;
    onAbort(ac.signal, () => fired++);
    expect(added).toEqual(['abort', 'abort']);
    ac.abort();
    expect(fired).toBe(1);
  });

  it('calls every subscriber once on abort, even when one throws, and at once for an aborted signal', async () => {
    const ac = new AbortController();
    const calls: number[] = [];
    onAbort(ac.signal, () => calls.push(1));
    onAbort(ac.signal, () => {
      throw new Error('listener bug');
    });
    onAbort(ac.signal, () => calls.push(3));
    const uncaught = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
    ac.abort();
    ac.abort();
    expect(calls).toEqual([1, 3]);
    expect(((await uncaught) as Error).message).toBe('listener bug');
    let late = 0;
    onAbort(ac.signal, () => late++);
    expect(late).toBe(1);
  });
});

describe('many calls on one caller signal', () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  afterEach(() => {
    process.off('warning', onWarning);
  });

  it('print no MaxListenersExceededWarning, and aborting the signal still cancels every call', async () => {
    process.on('warning', onWarning);
    const sink = new ArraySink();
    const a = fakeStt([{ hang: true }]);
    const client = createAiClient({ providers: { a }, sinks: [sink] });
    const ac = new AbortController();
    const req = { audio: new Uint8Array(3200), encoding: 'LINEAR16' as const, sampleRateHertz: 16000 };
    const calls = Array.from({ length: 50 }, () => client.stt.transcribe(req, { signal: ac.signal }).then(() => 'resolved', (e: unknown) => e));
    // Let every call reach its provider, then give pending warnings a turn to be emitted.
    await new Promise((r) => setTimeout(r, 20));
    expect(a.calls).toHaveLength(50);
    expect(abortSubscribers(ac.signal)).toBe(50);
    ac.abort();
    const results = await Promise.all(calls);
    expect(results.every((e) => isAiError(e) && e.code === 'cancelled')).toBe(true);
    expect(a.aborted).toBe(50);
    expect(sink.records).toHaveLength(50);
    expect(abortSubscribers(ac.signal)).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(warnings.map((w) => w.name)).toEqual([]);
    await client.close();
  });

  it('leave nothing attached to the caller signal once they end', async () => {
    const client = createAiClient({ providers: { a: fakeStt([{ ok: true }]) } });
    const ac = new AbortController();
    const req = { audio: new Uint8Array(3200), encoding: 'LINEAR16' as const, sampleRateHertz: 16000 };
    await Promise.all(Array.from({ length: 30 }, () => client.stt.transcribe(req, { signal: ac.signal })));
    expect(abortSubscribers(ac.signal)).toBe(0);
    await client.close();
  });
});
