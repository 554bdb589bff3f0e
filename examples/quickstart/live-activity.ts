// The demo's live activity: the learner's answer streams into client.stt.transcribeStream while
// it is spoken (interim transcripts shown as they come), is graded, and the tutor's reply streams
// back from client.tts.synthesizeStream; the time from the end of speech to the first reply audio
// is what a live tutor is judged by.

import { tutorReply } from '../server/src/tutor-reply.js';
import type { AiClient, Formality, ResultMeta } from '@korean-together/core';
import { synthesizeMicrophonePcm } from '@korean-together/providers/emulators';

export interface LiveActivity {
  prompt: string;
  expectedAnswer: string;
  targetFormality: Formality;
  learnerAnswer: string;
}

export interface LiveReport {
  transcript: string;
  interims: number;
  /** ms from the end of speech: final transcript, grade, first reply audio. */
  finalMs: number;
  gradeMs: number;
  firstAudioMs: number;
  calls: { capability: 'stt' | 'eval' | 'tts'; purpose: string; meta: ResultMeta }[];
}

const RATE = 16_000;
/** 100 ms of 16 kHz 16-bit mono PCM per chunk. */
const CHUNK_BYTES = (RATE / 10) * 2;

/** The learner's answer as a microphone delivers it: 100 ms chunks in real time; `ended` notes the end of speech. */
async function* microphone(pcm: Uint8Array, ended: (at: number) => void): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < pcm.length; at += CHUNK_BYTES) {
    await new Promise((r) => setTimeout(r, 100));
    yield pcm.subarray(at, at + CHUNK_BYTES);
  }
  ended(performance.now());
}

/** Runs the live turn; `print` gets each line to show. */
export async function runLiveActivity(client: AiClient, activity: LiveActivity, sessionId: string, print: (line: string) => void): Promise<LiveReport> {
  let endedAt = Number.NaN;
  const pcm = synthesizeMicrophonePcm(activity.learnerAnswer, { sampleRateHertz: RATE });
  const heard = client.stt.transcribeStream(microphone(pcm, (t) => (endedAt = t)), { encoding: 'LINEAR16', sampleRateHertz: RATE, maxAudioMs: 30_000, interimResults: true }, { sessionId });
  let interims = 0;
  for await (const e of heard) {
    if (e.type === 'interim') interims++;
    print(e.type === 'interim' ? `    … ${e.transcript}` : `    ✓ ${e.transcript}`);
  }
  const stt = await heard.result;
  const finalMs = performance.now() - endedAt;

  const evaluation = await client.eval.evaluate({ prompt: activity.prompt, learnerAnswer: stt.transcript, expectedAnswer: activity.expectedAnswer, targetFormality: activity.targetFormality }, { sessionId });
  const gradeMs = performance.now() - endedAt;

  const reply = tutorReply(evaluation, { expectedAnswer: activity.expectedAnswer, targetFormality: activity.targetFormality });
  const spoken = client.tts.synthesizeStream(reply, { audioEncoding: 'LINEAR16' }, { sessionId });
  let firstAudioMs = Number.NaN;
  for await (const _chunk of spoken) if (Number.isNaN(firstAudioMs)) firstAudioMs = performance.now() - endedAt;
  const tts = await spoken.result;
  return {
    transcript: stt.transcript,
    interims,
    finalMs,
    gradeMs,
    firstAudioMs,
    calls: [
      { capability: 'stt', purpose: 'live transcript', meta: stt.meta },
      { capability: 'eval', purpose: 'grade live answer', meta: evaluation.meta },
      { capability: 'tts', purpose: 'stream reply', meta: tts.meta },
    ],
  };
}
