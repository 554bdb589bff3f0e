// The live turn's wire protocol on GET /v1/turns/live (a WebSocket), as the README documents it.
//
// Client -> server: one JSON text frame `start` (the task and the audio's encoding), then the
// learner's audio as binary frames, then one JSON text frame `end` (the end of the speech).
// Server -> client: `ready`, `interim` / `final` transcripts as they are heard, `transcript` (the
// STT call's result), `grade`, `reply` then the reply audio as binary frames as it is
// synthesised, `reply_end`, and `done`; or `error`. The server closes with one of LIVE_CLOSE.

import { AUDIO_ENCODINGS, type AudioEncoding, type Formality } from '@korean-together/core';
import { NO_NUL_PATTERN } from './schemas.js';

/** Close codes of the live turn (4000-4999 are the application's, RFC 6455 7.4.2). */
export const LIVE_CLOSE = {
  /** The turn ran to its end (`done` was sent). */
  done: 1000,
  /** The server is shutting down; retry on another instance. */
  goingAway: 1001,
  /** A frame the protocol does not allow: not JSON, an unknown type, audio before `start`, a bad field (the `error` names it). */
  badFrame: 4400,
  /** The turn's audio passed `maxAudioMs`, or `end` did not come within `maxTurnMs` of `start`. */
  turnTooLong: 4408,
  /** An AI call of the turn failed (the `error` carries its AiError code): STT or grading. */
  aiFailed: 4500,
  /** The server could not serve the turn (database down, shutting down before the start). */
  unavailable: 4503,
} as const;

/** The live turn's limits; README and tests read them from here. */
export const LIVE_LIMITS = {
  /** Longest learner audio per turn, ms (the STT stream's `maxAudioMs`). */
  maxAudioMs: 30_000,
  /** Longest time from `start` to `end`, ms (audio may arrive slower than real time, not forever). */
  maxTurnMs: 45_000,
  /** Largest binary frame, bytes (ws closes with 1009 above it). */
  maxFrameBytes: 64 * 1024,
  /** Largest JSON frame, characters. */
  maxTextFrameChars: 16 * 1024,
} as const;

/** Encodings a reply may be streamed in (streaming TTS: headerless PCM or Ogg Opus). */
export const LIVE_REPLY_ENCODINGS = ['LINEAR16', 'OGG_OPUS'] as const;

export interface LiveStart {
  type: 'start';
  sessionId?: string;
  activityId?: string;
  prompt: string;
  expectedAnswer?: string;
  targetFormality?: Formality;
  level?: string;
  /** The learner audio's encoding; LINEAR16 is headerless 16-bit mono PCM. */
  encoding: AudioEncoding;
  /** Required for LINEAR16. */
  sampleRateHertz?: number;
  voice?: string;
  /** Reply audio: LINEAR16 (headerless PCM) or OGG_OPUS; default LINEAR16. */
  replyEncoding?: (typeof LIVE_REPLY_ENCODINGS)[number];
  /** LINEAR16 reply sample rate, default 24000. */
  replySampleRateHertz?: number;
}

export type ServerMessage =
  | { type: 'ready'; sessionId: string; maxAudioMs: number; maxTurnMs: number; maxFrameBytes: number }
  | { type: 'interim'; transcript: string; stability?: number }
  | { type: 'final'; transcript: string; confidence?: number; endMs: number }
  | { type: 'transcript'; transcript: string; meta: unknown }
  | { type: 'grade'; evaluation: unknown; meta: unknown }
  | { type: 'reply'; text: string; encoding: string; sampleRateHertz?: number }
  | { type: 'reply_end'; meta?: unknown; errorCode?: string }
  | { type: 'done'; sessionId: string; eventIds: Record<string, string>; costUsd: number; calls: unknown[] }
  | { type: 'error'; code: string; message: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const noNul = new RegExp(NO_NUL_PATTERN);

type Field = [name: string, check: (v: unknown) => boolean, what: string];
const text = (max: number): Field[1] => (v) => typeof v === 'string' && v.length >= 1 && v.length <= max && noNul.test(v);
const intIn = (lo: number, hi: number): Field[1] => (v) => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;

const START_FIELDS: Field[] = [
  ['sessionId', (v) => typeof v === 'string' && UUID.test(v), 'a UUID'],
  ['activityId', text(200), 'a string of 1..200 characters'],
  ['prompt', text(4000), 'a string of 1..4000 characters'],
  ['expectedAnswer', text(4000), 'a string of 1..4000 characters'],
  ['targetFormality', (v) => v === 'hapsyo' || v === 'haeyo' || v === 'banmal', "one of 'hapsyo', 'haeyo', 'banmal'"],
  ['level', text(50), 'a string of 1..50 characters'],
  ['encoding', (v) => (AUDIO_ENCODINGS as readonly unknown[]).includes(v), `one of ${AUDIO_ENCODINGS.join(', ')}`],
  ['sampleRateHertz', intIn(8000, 48_000), 'an integer 8000..48000'],
  ['voice', text(100), 'a string of 1..100 characters'],
  ['replyEncoding', (v) => (LIVE_REPLY_ENCODINGS as readonly unknown[]).includes(v), `one of ${LIVE_REPLY_ENCODINGS.join(', ')}`],
  ['replySampleRateHertz', intIn(8000, 48_000), 'an integer 8000..48000'],
];
const REQUIRED = ['prompt', 'encoding'];

/** A client text frame: `start` checked field by field, `end`, or the problem (naming the field). */
export function parseClientText(raw: string): LiveStart | { type: 'end' } | { problem: string } {
  if (raw.length > LIVE_LIMITS.maxTextFrameChars) return { problem: `text frame: longer than ${LIVE_LIMITS.maxTextFrameChars} characters` };
  let msg: unknown;
  try {
    msg = JSON.parse(raw);
  } catch {
    return { problem: 'text frame: not JSON' };
  }
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return { problem: 'text frame: expected a JSON object' };
  const o = msg as Record<string, unknown>;
  if (o.type === 'end') return Object.keys(o).length === 1 ? { type: 'end' } : { problem: "end: takes no fields besides 'type'" };
  if (o.type !== 'start') return { problem: `text frame: type must be 'start' or 'end' (got ${JSON.stringify(o.type)?.slice(0, 40)})` };
  for (const key of Object.keys(o)) {
    if (key !== 'type' && !START_FIELDS.some(([name]) => name === key)) return { problem: `start.${key.slice(0, 40)}: not a field of start` };
  }
  for (const name of REQUIRED) if (o[name] === undefined) return { problem: `start.${name}: required` };
  for (const [name, check, what] of START_FIELDS) {
    if (o[name] !== undefined && !check(o[name])) return { problem: `start.${name}: must be ${what}` };
  }
  if (o.encoding === 'LINEAR16' && o.sampleRateHertz === undefined) return { problem: 'start.sampleRateHertz: required for LINEAR16 (headerless 16-bit mono PCM)' };
  return o as unknown as LiveStart;
}
