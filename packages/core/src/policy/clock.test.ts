import { describe, expect, it } from 'vitest';
import { backgroundTimeout, sleep, systemClock, type Clock } from './clock.js';

describe('systemClock', () => {
  it('keeps the process alive for awaited timers and not for background ones', () => {
    const awaited = systemClock.setTimeout(() => {}, 10_000) as NodeJS.Timeout;
    const background = systemClock.setBackgroundTimeout!(() => {}, 10_000) as NodeJS.Timeout;
    try {
      expect(awaited.hasRef()).toBe(true);
      expect(background.hasRef()).toBe(false);
    } finally {
      systemClock.clearTimeout(awaited);
      systemClock.clearTimeout(background);
    }
  });
});

describe('sleep', () => {
  function recordingClock(withBackground: boolean): Clock & { kinds: string[] } {
    const kinds: string[] = [];
    return {
      kinds,
      now: () => 0,
      setTimeout: (cb) => {
        kinds.push('awaited');
        queueMicrotask(cb);
        return 1;
      },
      clearTimeout: () => {},
      ...(withBackground && {
        setBackgroundTimeout: (cb: () => void) => {
          kinds.push('background');
          queueMicrotask(cb);
          return 2;
        },
      }),
    };
  }

  it('uses an awaited timer unless told the sleep is background work', async () => {
    const clock = recordingClock(true);
    await sleep(clock, 5);
    await sleep(clock, 5, undefined, { background: true });
    expect(clock.kinds).toEqual(['awaited', 'background']);
  });

  it('falls back to setTimeout for a clock without background timers (a fake clock)', async () => {
    const clock = recordingClock(false);
    await sleep(clock, 5, undefined, { background: true });
    backgroundTimeout(clock, () => {}, 5);
    expect(clock.kinds).toEqual(['awaited', 'awaited']);
  });
});
