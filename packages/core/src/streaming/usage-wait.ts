import type { Clock } from '../policy/clock.js';

/** How long an attempt waits, after its stream ended or failed, for the provider to say what it billed. */
export const USAGE_WAIT_MS = 1_000;

/**
 * The provider's billed usage, or undefined when it rejects or does not settle within
 * USAGE_WAIT_MS (the caller then bills its own measure of what was sent).
 */
export function usageWithin<T>(usage: Promise<T> | undefined, clock: Clock): Promise<T | undefined> {
  if (usage === undefined) return Promise.resolve(undefined);
  return new Promise<T | undefined>((resolve) => {
    const timer = clock.setTimeout(() => resolve(undefined), USAGE_WAIT_MS);
    usage.then(
      (u) => {
        clock.clearTimeout(timer);
        resolve(u);
      },
      () => {
        clock.clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}
