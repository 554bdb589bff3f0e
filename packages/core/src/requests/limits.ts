// One set of request limits, shared by the client (checked before any provider call) and the
// adapters (checked before their own request): @korean-together/core/provider-kit exports them.
import { AUDIO_ENCODINGS, TTS_AUDIO_ENCODINGS, type AudioEncoding, type TtsAudioEncoding } from '../spec/types.js';

const MB = 1024 * 1024;

/** Synchronous recognition (Google Recognize; the client's limit for every STT call): 10 MB. */
export const MAX_SYNC_AUDIO_BYTES = 10 * MB;
/** Synchronous recognition: 60 s. */
export const MAX_SYNC_AUDIO_MS = 60_000;
/** Longest eval prompt, learner answer or expected answer, in UTF-16 code units. */
export const MAX_EVAL_TEXT_CHARS = 4_000;
/**
 * Largest inline audio an evaluation request may carry: Gemini caps a whole request at 20 MB,
 * and base64 makes 10 MB of audio 13.3 MB on the wire, which leaves the prompt room.
 */
export const MAX_EVAL_AUDIO_BYTES = 10 * MB;
/** Longest learner level text ('A2', 'beginner'). */
export const MAX_EVAL_LEVEL_CHARS = 50;
/** Longest TTS voice name. */
export const MAX_VOICE_CHARS = 100;
/** Longest delay a Node timer takes (2^31 - 1 ms); longer ones fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/** Limits of one speech-to-text endpoint. */
export interface SttLimits {
  /** Largest audio, bytes. */
  maxBytes: number;
  /** Longest audio, ms, checked when the container states its length. Absent: no length limit. */
  maxDurationMs?: number;
  /** Encodings the endpoint takes. Default: every AudioEncoding. */
  encodings?: readonly AudioEncoding[];
  /** Names the limit in messages: 'the 60000 ms synchronous limit'. */
  label: string;
}

/** Google's synchronous Recognize, and the client's limit for every STT call: 60 s or 10 MB. */
export const SYNC_STT_LIMITS: SttLimits = { maxBytes: MAX_SYNC_AUDIO_BYTES, maxDurationMs: MAX_SYNC_AUDIO_MS, encodings: AUDIO_ENCODINGS, label: 'synchronous' };
/** The same limits under the name adapters use for Google STT. */
export const GOOGLE_SYNC_STT_LIMITS: SttLimits = SYNC_STT_LIMITS;
/** OpenAI's /v1/audio/transcriptions: 25 MB files, no length limit of its own. */
export const WHISPER_STT_LIMITS: SttLimits = { maxBytes: 25 * MB, encodings: AUDIO_ENCODINGS, label: 'upload' };

/** Encodings a TTS request may ask for. */
export const TTS_ENCODINGS: readonly TtsAudioEncoding[] = TTS_AUDIO_ENCODINGS;
