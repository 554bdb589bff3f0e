import { describe, expect, it } from 'vitest';
import { manualClock } from '../test/manual-clock.js';
import { DatabaseHealth } from './database-health.js';

/** A probe the test answers: each call waits until the test says whether the database is back. */
function scriptedProbe() {
  const calls: number[] = [];
  let answer: 'down' | 'up' = 'down';
  return {
    calls,
    set: (a: 'down' | 'up') => (answer = a),
    probe: (now: () => number) => async () => {
      calls.push(now());
      if (answer === 'down') throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    },
  };
}

describe('DatabaseHealth', () => {
  const backoff = { initialDelayMs: 100, maxDelayMs: 500 };

  it('after a failure, probes on core\u2019s backoff (on background timers) until the database answers, and reports the outage once', async () => {
    const t = manualClock(1_000);
    const p = scriptedProbe();
    const events: string[] = [];
    const health = new DatabaseHealth({
      probe: p.probe(() => t.now),
      clock: t.clock,
      backoff,
      // The middle of every jitter range: the n-th wait is 3/4 of min(max, initial * 2^(n-1)).
      random: () => 0.5,
      onDown: (e) => events.push(`down:${(e as { code?: string }).code}`),
      onUp: () => events.push('up'),
    });
    expect(health.up).toBe(true);
    health.markDown(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    health.markDown(new Error('again, same outage'));
    expect(health.up).toBe(false);
    expect(events).toEqual(['down:ECONNRESET']);
    // Nothing waits on these timers: they must never keep the process alive.
    expect(t.pending()).toEqual([{ at: 1_075, background: true }]);
    await t.advance(74);
    expect(p.calls).toEqual([]);
    await t.advance(1);
    await t.advance(150 + 300 + 375 + 375);
    expect(p.calls.map((at) => at - 1_000)).toEqual([75, 225, 525, 900, 1_275]);
    p.set('up');
    await t.advance(375);
    expect(p.calls).toHaveLength(6);
    expect(health.up).toBe(true);
    expect(events).toEqual(['down:ECONNRESET', 'up']);
    expect(t.pending()).toEqual([]);

    // A new outage is reported again, and the backoff starts over.
    p.set('down');
    health.markDown(new Error('down again'));
    expect(events).toHaveLength(3);
    expect(t.pending()).toEqual([{ at: t.now + 75, background: true }]);
    health.stop();
  });

  it('stop() ends the probing: no probe after it, no timer left, nothing reported', async () => {
    const t = manualClock();
    const p = scriptedProbe();
    const events: string[] = [];
    const health = new DatabaseHealth({ probe: p.probe(() => t.now), clock: t.clock, backoff, random: () => 0, onDown: () => events.push('down'), onUp: () => events.push('up') });
    health.markDown(new Error('x'));
    health.stop();
    p.set('up');
    await t.advance(10_000);
    expect(p.calls).toEqual([]);
    expect(t.pending()).toEqual([]);
    expect(events).toEqual(['down']);
    expect(health.up).toBe(false);
    // After stop() a failure no longer starts a probe.
    health.markDown(new Error('y'));
    expect(t.pending()).toEqual([]);
  });

  it('probeOnce() (close() with a backlog) marks the database up when it answers, and leaves it down when not', async () => {
    const t = manualClock();
    const p = scriptedProbe();
    const health = new DatabaseHealth({ probe: p.probe(() => t.now), clock: t.clock, backoff, onDown: () => {}, onUp: () => {} });
    health.markDown(new Error('x'));
    await health.probeOnce();
    expect(health.up).toBe(false);
    p.set('up');
    await health.probeOnce();
    expect(health.up).toBe(true);
    health.stop();
  });
});
