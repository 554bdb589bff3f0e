// The protocol every multi-process test speaks (test-support/child-protocol.ts), against a
// real child process per case.
import { describe, expect, it } from 'vitest';
import { resultsOf, startChild, startTogether } from '../../../test-support/child-protocol.js';

const probe = new URL('./fixtures/probe-child.ts', import.meta.url);

describe('the child-process protocol', () => {
  it('children get ready, are released together, and their results come back once they exit 0; other stdout lines are ignored', async () => {
    const children = await startTogether(2, probe, (i) => ({ mode: 'echo', value: { i, text: '안녕' } }));
    const results = await resultsOf<{ value: unknown }>(children);
    expect(results.map((r) => r.value)).toEqual([
      { i: 0, text: '안녕' },
      { i: 1, text: '안녕' },
    ]);
    expect(children[0]!.messages.map((m) => m.type)).toEqual(['ready', 'result']);
  });

  it('a child that exits before it sends the message: rejected with its exit code and the end of its stderr', async () => {
    const child = startChild(probe, { mode: 'exit-early' });
    await expect(child.waitFor('ready')).rejects.toThrow(/probe-child\.ts exited \(3\) before sending 'ready': could not start: no such thing/);
  });

  it('a result followed by a failing exit is not a result', async () => {
    const child = startChild(probe, { mode: 'fail-after-result' });
    await expect(child.result()).rejects.toThrow(/sent its result, then exited with 2/);
  });

  it('a child that never sends the message: rejected after timeoutMs, and killed', async () => {
    const child = startChild(probe, { mode: 'hang' });
    await child.waitFor('ready');
    await expect(child.waitFor('result', 500)).rejects.toThrow(/sent no 'result' within 500 ms \(killed\)/);
    expect(await child.exited).toBeNull();
    expect(child.proc.signalCode).toBe('SIGKILL');
  });

  it('a child exits when the test holding the other end of its stdin goes away', async () => {
    const child = startChild(probe, { mode: 'hang' });
    await child.waitFor('ready');
    child.proc.stdin!.end();
    expect(await child.exited).toBe(1);
  });
});
