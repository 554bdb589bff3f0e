// test/ai.test.ts in your app: the real client libraries against local emulators, in CI, with
// no keys and no network. Faults are scripted per test.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { emulatorEnv, startEmulators, synthesizeWav, type Emulators } from '@korean-together/providers/emulators';
import { createAi, type Ai } from './ai.js';
import { gradeSpokenAnswer } from './grade-answer.js';

let emu: Emulators;
let ai: Ai;

beforeAll(async () => {
  emu = await startEmulators(); // 127.0.0.1, free ports
  // Only the variables this test wants: the emulators, and no DATABASE_URL (embedded PGlite).
  const env = emulatorEnv(emu); // EMULATORS_HOST, *_EMULATOR_PORT and placeholder keys
  ai = await createAi(env, fileURLToPath(new URL('./ai-policy.json', import.meta.url)));
});

afterAll(async () => {
  await ai?.close();
  await emu?.close();
});

it('grades a spoken answer, and falls back to Whisper when Google Speech is down', async () => {
  emu.faults.add({ target: 'google-stt', fault: { kind: 'status', status: 14 } }); // UNAVAILABLE
  const audio = synthesizeWav('저는 학생입니다'); // emulator audio carries its words: STT hears them back
  const r = await gradeSpokenAnswer(ai, { sessionId: crypto.randomUUID(), prompt: '자기소개를 하세요', expectedAnswer: '저는 학생이에요', audio, encoding: 'LINEAR16' });
  expect(r.transcript).toBe('저는 학생입니다');
  expect(r.passed).toBe(false);
  expect(r.mistake).toBe('formality');
  expect(emu.hits.count('whisper')).toBe(1);
  emu.faults.clear();
});
