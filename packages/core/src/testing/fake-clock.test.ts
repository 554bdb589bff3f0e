import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { example } from '../../test/fixtures/testing-example.js';
import { FakeClock } from './fake-clock.js';

describe('FakeClock', () => {
  it('fires due timers in time order, then in the order they were set, and only when advanced', async () => {
    const clock = new FakeClock(1_000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@200'), 200);
    clock.setTimeout(() => fired.push('a@100'), 100);
    clock.setTimeout(() => fired.push('c@200'), 200);
    const cleared = clock.setTimeout(() => fired.push('never'), 50);
    clock.clearTimeout(cleared);
    expect(clock.pendingTimers).toBe(3);
    await clock.advance(150);
    expect(fired).toEqual(['a@100']);
    expect(clock.now()).toBe(1_150);
    await clock.advance(50);
    expect(fired).toEqual(['a@100', 'b@200', 'c@200']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('lets what a timer releases run before the next timer fires', async () => {
    const clock = new FakeClock(0);
    const seen: number[] = [];
    const sleep = (ms: number) => new Promise<void>((r) => clock.setTimeout(r, ms));
    void (async () => {
      await sleep(10);
      seen.push(clock.now());
      await sleep(10);
      seen.push(clock.now());
    })();
    await clock.advance(100);
    expect(seen).toEqual([10, 20]);
  });
});

describe("README's testing example", () => {
  it('is the example in the README, and runs as it says', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const fixture = readFileSync(new URL('../../test/fixtures/testing-example.ts', import.meta.url), 'utf8');
    const body = fixture.slice(fixture.indexOf('// @readme-start\n') + '// @readme-start\n'.length, fixture.indexOf('// @readme-end'));
    expect(readme).toContain(body.trim());
    const { result, records } = await example();
    expect(result.score).toBe(85);
    expect(result.meta.attempts.map((a) => a.outcome)).toEqual(['error', 'success']);
    expect(records.map((r) => [r.attempt, r.success, r.latencyMs])).toEqual([
      [1, false, 0],
      [2, true, 300],
    ]);
  });
});
