// Steps that every adapter's tests take the same way against the emulators.
import type { AttemptContext } from '@korean-together/core';
import type { EmulatorTarget } from '@korean-together/providers/emulators';
import { expect, vi } from 'vitest';
import type { EmulatorsHandle } from '../../../../test-support/emulators.js';
import { rejection, testAttempt } from '../../src/shared/test-context.js';

/**
 * Makes `target` hang, starts `run` in a fresh attempt, waits until the emulator has received
 * exactly one more request, then aborts the attempt the way the engine does (`how`: the caller
 * gave up, or another provider won a hedge) and returns the error `run` failed with.
 */
export async function abortWhileHanging(
  emu: Pick<EmulatorsHandle, 'faults' | 'hits'>,
  target: EmulatorTarget,
  run: (ctx: AttemptContext) => Promise<unknown>,
  how: 'cancel' | 'loseHedge' = 'cancel',
): Promise<Error & Record<string, unknown>> {
  const before = emu.hits.count(target);
  emu.faults.add({ target, fault: { kind: 'hang' } });
  const attempt = testAttempt();
  const failed = rejection(() => run(attempt.ctx));
  await vi.waitFor(() => expect(emu.hits.count(target)).toBe(before + 1));
  attempt[how]();
  return failed;
}

/** Everything an error shows whoever logs or serializes it: its own fields, its message and its cause, as one string. */
export function everythingShown(e: Error & Record<string, unknown>): string {
  return JSON.stringify({ e, message: e.message, cause: String((e as { cause?: unknown }).cause ?? '') });
}
