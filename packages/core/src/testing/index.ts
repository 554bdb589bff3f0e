// @korean-together/core/testing: test doubles for a host app's own tests. Scripted fake
// providers (timeouts, errors, bad output, hangs), a sink that keeps its records, a clock
// whose time moves only when told, and the budget's worst case of a request.
export { fakeEval, fakeStt, fakeTts, goodEval, ArraySink, unavailable, badRequest, rateLimited } from './fakes.js';
export type { Script, Recorder, FakeOptions } from './fakes.js';
export { FakeClock } from './fake-clock.js';
export { fakeSttStream, fakeTtsStream } from './fake-streams.js';
export type { SttStreamScript, SttStreamRecorder, TtsStreamScript, TtsStreamRecorder } from './fake-streams.js';
export { seededRandom } from './simulate/prng.js';
export { worstCaseUnits } from '../capabilities/index.js';
export * from './simulate/index.js';
