// Attempt contexts for adapter tests, shaped like the ones the core's engine builds
// (an abort reason with a `cause` names which limit fired).
import type { AttemptContext } from '@korean-together/core';

export interface TestAttempt {
  ctx: AttemptContext;
  controller: AbortController;
  /** Aborts the way the engine does when the caller gives up. */
  cancel(): void;
  /** Aborts the way the engine does when another provider won a hedge. */
  loseHedge(): void;
}

/** An attempt with `attemptMs` to run inside a call with `deadlineMs` left. */
export function testAttempt(attemptMs = 5000, deadlineMs = Math.max(attemptMs, 10_000)): TestAttempt {
  const controller = new AbortController();
  const now = Date.now();
  const abortWith = (cause: string) => () => controller.abort(Object.assign(new Error(`aborted: ${cause}`), { name: 'AbortError', cause }));
  return {
    ctx: { signal: controller.signal, attempt: 1, deadlineAt: now + deadlineMs, attemptDeadlineAt: now + attemptMs },
    controller,
    cancel: abortWith('caller'),
    loseHedge: abortWith('hedge_lost'),
  };
}

/** Runs `fn` and returns the error it throws (fails the test when it does not throw). */
export async function rejection(fn: () => Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await fn();
  } catch (e) {
    return e as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail');
}

/** A local port with nothing listening on it (bound, then released). */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The audio in `bytes`-sized chunks, as a microphone would hand them over; `hold` keeps it open after the last one. */
export async function* audioChunks(audio: Uint8Array, bytes: number, hold = false): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < audio.length; at += bytes) yield audio.subarray(at, at + bytes);
  if (hold) await new Promise(() => {});
}

/** Everything a stream yields, in order. */
export async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
}
