// The emulator helper every adapter test stands on: when it starts and stops the emulators,
// what it clears between tests, and in which order it closes what the tests opened.
import { describe, expect, it } from 'vitest';
import { useEmulators } from '../../../test-support/emulators.js';

const generate = (baseUrl: string) =>
  fetch(`${baseUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'emulator' },
    body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'x' }] }] }),
  });

let readTooEarly: unknown;
let servedUrl = '';
const seenWhileClosing: number[] = [];

describe('useEmulators', () => {
  const emu = useEmulators();
  try {
    void emu.gemini;
  } catch (e) {
    readTooEarly = e;
  }
  emu.closeAfterAll({
    // Runs in the afterAll: the emulators must still answer.
    close: async () => void seenWhileClosing.push((await fetch(`${servedUrl}/health`)).status),
  });

  it('refuses to be read before its beforeAll, naming itself', () => {
    expect(readTooEarly).toBeInstanceOf(Error);
    expect((readTooEarly as Error).message).toContain('useEmulators()');
  });

  it('serves from its beforeAll: a fault added here applies here', async () => {
    servedUrl = emu.gemini.baseUrl;
    emu.faults.add({ target: 'gemini', fault: { kind: 'status', status: 503 } });
    expect((await generate(emu.gemini.baseUrl)).status).toBe(503);
    expect(emu.hits.count('gemini')).toBe(1);
  });

  it('clears the faults and hit counters of the previous test', async () => {
    expect(emu.hits.count('gemini')).toBe(0);
    expect((await generate(emu.gemini.baseUrl)).status).not.toBe(503);
    expect(emu.hits.count('gemini')).toBe(1);
  });
});

describe('after the describe that used it', () => {
  it('closed what the tests handed it while the emulators still ran, then stopped them', async () => {
    expect(seenWhileClosing).toEqual([200]);
    await expect(fetch(`${servedUrl}/health`)).rejects.toThrow();
  });
});
