import { describe, expect, it } from 'vitest';
import { closeShares } from '@korean-together/core';
import { createTutoringServer } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { IDLE_LINGER_MS, MIN_SHUTDOWN_HEADROOM_MS, SHUTDOWN_MARGIN_MS, shutdownBudget } from '../src/shutdown-budget.js';

describe('shutdown budget', () => {
  it('gives the AI client and the usage sink what the timeout leaves after the deadline and the idle linger', () => {
    for (const [deadline, timeout] of [
      [8_000, 9_500],
      [1_000, 3_000],
      [20_000, 30_000],
    ] as const) {
      const b = shutdownBudget(deadline, timeout);
      // Every step in the worst case, one after the other, ends by the timeout.
      expect(deadline + IDLE_LINGER_MS + b.clientCloseTimeoutMs + SHUTDOWN_MARGIN_MS).toBe(timeout);
      expect(b.closeClientAfterMs).toBe(deadline + IDLE_LINGER_MS);
      // The client calls the sink's close() (no flush first) by the start of the sinks' share at the
      // latest: the sink's whole close, spill included, ends inside it, with a margin.
      const { sinksMs, callsMs } = closeShares(b.clientCloseTimeoutMs);
      expect(callsMs + sinksMs).toBe(b.clientCloseTimeoutMs);
      expect(sinksMs - b.sinkCloseTimeoutMs).toBeGreaterThanOrEqual(Math.min(1_000, Math.floor(sinksMs / 5)));
      expect(b.sinkFlushTimeoutMs).toBeLessThanOrEqual(b.sinkCloseTimeoutMs);
      expect(b.sinkCloseTimeoutMs).toBeGreaterThanOrEqual(300);
    }
    expect(shutdownBudget(8_000, 9_500)).toMatchObject({ clientCloseTimeoutMs: 750, sinkFlushTimeoutMs: 300, sinkCloseTimeoutMs: 300 });
    // A long budget: the sinks' share stops at 6 s, the sink keeps a second of it as margin.
    expect(shutdownBudget(8_000, 30_000)).toMatchObject({ clientCloseTimeoutMs: 21_250, sinkCloseTimeoutMs: 5_000 });
  });

  it('start-up refuses a shutdown timeout that leaves the usage sink no time, naming both variables', () => {
    expect(loadConfig({}).shutdownTimeoutMs).toBe(8_000 + MIN_SHUTDOWN_HEADROOM_MS);
    expect(() => loadConfig({ SHUTDOWN_DEADLINE_MS: '8000', SHUTDOWN_TIMEOUT_MS: '9000' })).toThrow(
      /SHUTDOWN_TIMEOUT_MS: must be above SHUTDOWN_DEADLINE_MS by at least 1500 ms \(got 9000 with SHUTDOWN_DEADLINE_MS 8000\)/,
    );
    expect(loadConfig({ SHUTDOWN_DEADLINE_MS: '8000', SHUTDOWN_TIMEOUT_MS: '9500' }).shutdownTimeoutMs).toBe(9_500);
    // A bad value is named once, not again as a budget that does not fit.
    expect(() => loadConfig({ SHUTDOWN_DEADLINE_MS: 'soon', SHUTDOWN_TIMEOUT_MS: '3000' })).toThrow(/^invalid server configuration: SHUTDOWN_DEADLINE_MS: must be an integer within 0\.\.600000 \(got 'soon'\)$/);
  });

  it('createTutoringServer refuses the same options with invalid_config before it opens anything', async () => {
    await expect(
      createTutoringServer({ database: {}, backend: { kind: 'real' }, logger: false, shutdownDeadlineMs: 8_000, shutdownTimeoutMs: 9_000 }),
    ).rejects.toMatchObject({ code: 'invalid_config', message: expect.stringMatching(/shutdownTimeoutMs: must be above shutdownDeadlineMs by at least 1500 ms/) });
  });
});
