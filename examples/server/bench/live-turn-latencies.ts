// The latencies the live-turn bench gives the emulators, from public measurements (sources in
// SOURCES, quoted in docs/BENCHMARKS.md). Both paths get the same grader; each path's speech
// services get the latency of the API it calls (sync Recognize and SynthesizeSpeech for the
// one-shot path, StreamingRecognize and StreamingSynthesize for the live one).

import { speechDurationMs } from '@korean-together/providers/emulators';

/** What the learner says in every turn. */
export const SAID = '저는 학생입니다';

export const LATENCY = {
  /** Streaming STT: first interim after the first audio (audio buffering ~250 ms + network ~50 ms). */
  streamFirstResultMs: 300,
  /** Streaming STT: gap between interim results (100 ms audio frames). */
  streamInterimMs: 100,
  /** Streaming STT: end of speech -> final result (endpoint detection 200-500 ms + model 100-300 ms, upper-middle). */
  streamFinalMs: 350,
  /** Sync Recognize: half the audio's duration ("30 seconds of audio in 15 seconds on average"). */
  syncRecognizeMs: Math.round(speechDurationMs(SAID) / 2),
  /** Grading (Gemini Flash, JSON, not streamed): time to first token 420 ms + ~60 output tokens at ~250 tokens/s. */
  evalMs: 650,
  /** Streaming TTS: time to first byte. */
  streamFirstChunkMs: 140,
  /** Streaming TTS: each later 200 ms chunk 40 ms after the previous (5x real time). */
  streamPerChunkMs: 40,
  /** SynthesizeSpeech: the whole reply before its first byte: first byte 140 ms + ~3 s of audio at a 0.1 real-time factor. */
  syncSynthesizeMs: 440,
  /** Whisper (the STT fallback), one sync request for a short clip. */
  whisperMs: 1000,
} as const;

export const SOURCES = [
  'Streaming STT: Picovoice, "Speech-to-Text Latency: How to Measure and Minimize" (audio buffering ~250 ms, network 50-300 ms, model 100-300 ms, endpoint detection 200-500 ms; vendor blog).',
  'Sync Recognize: Google Cloud Speech-to-Text docs, synchronous recognition: "processing 30 seconds of audio in 15 seconds on average".',
  'Grading and TTS first byte: a measured cascaded pipeline (LiveKit Agents + Gemini Flash Lite, third party, n=10): LLM time to first token 0.42 s, TTS time to first byte 0.14 s, time to first audio 1.20 s p50.',
  'Whisper: theneuralbase.com, "Whisper API latency expectations" ("a 10-second clip might return in 2 seconds"); 1 s taken for a ~2.6 s clip.',
  'Assumed (no public figure found): grading output ~60 tokens at ~250 tokens/s; streaming TTS at 5x real time; SynthesizeSpeech real-time factor 0.1.',
];
