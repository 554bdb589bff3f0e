import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { startEmulators, type Emulators, type StartEmulatorsOptions } from '@korean-together/providers/emulators';

/** Something a test opens against the emulators and must close before they stop (a client, a provider). */
export interface Closable {
  close(): unknown;
}

/**
 * The emulators of one test file (or describe block). Every field is read when it is used, so
 * the handle can be captured at the top of a file and read inside tests and hooks; reading it
 * before the `beforeAll` or after the `afterAll` throws.
 */
export interface EmulatorsHandle extends Omit<Emulators, 'close'> {
  /**
   * Closes `resource` in the `afterAll`, before the emulators stop (a gRPC client closed after
   * its server would wait on a dead channel), and returns it. Call it anywhere, tests included.
   */
  closeAfterAll<T extends Closable>(resource: T): T;
}

/**
 * Starts every emulator (`startEmulators(options)`) in a `beforeAll` where it is called and
 * closes them in the matching `afterAll`. Faults are cleared, hit counters and the stream timing reset before and
 * after every test: after, so a fault never outlives the test that added it; before as well,
 * so a request the previous test left hanging, counted as aborted only once its socket closes,
 * does not show up in this test's counts. Add faults in a test or a `beforeEach`, never in a
 * `beforeAll`. Call it at the top of a file or inside `describe`, never in a test.
 */
export function useEmulators(options: StartEmulatorsOptions = {}): EmulatorsHandle {
  let running: Emulators | undefined;
  const resources: Closable[] = [];
  const emu = (): Emulators => {
    if (!running) throw new Error('useEmulators(): the emulators run from its beforeAll to its afterAll; they were used outside them');
    return running;
  };
  const reset = () => {
    running?.faults.clear();
    running?.hits.reset();
    running?.streamTiming.reset();
  };

  beforeAll(async () => {
    running = await startEmulators(options);
  });
  afterAll(async () => {
    const stopping = running;
    try {
      await Promise.all(resources.splice(0).map((r) => r.close()));
    } finally {
      running = undefined;
      await stopping?.close();
    }
  });
  beforeEach(reset);
  afterEach(reset);

  return {
    get gemini() {
      return emu().gemini;
    },
    get vertex() {
      return emu().vertex;
    },
    get openai() {
      return emu().openai;
    },
    get google() {
      return emu().google;
    },
    get whisper() {
      return emu().whisper;
    },
    get httpTts() {
      return emu().httpTts;
    },
    get faults() {
      return emu().faults;
    },
    get streamTiming() {
      return emu().streamTiming;
    },
    get hits() {
      return emu().hits;
    },
    closeAfterAll(resource) {
      resources.push(resource);
      return resource;
    },
  };
}
