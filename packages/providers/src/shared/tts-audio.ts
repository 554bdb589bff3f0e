import { AiError, isAiError, type TtsAudioEncoding, type TtsProviderResult } from '@korean-together/core';
import { codePoints } from './text-split.js';
import { oggOpusDurationMs, joinMp3, scanMp3, joinWav, parseWav } from '@korean-together/core/provider-kit';

/**
 * Checks synthesized audio before it is handed on: a WAV must parse and hold the bytes its
 * header promises, an MP3 must hold whole frames. A cut-off file is `unavailable` (retryable):
 * the provider's answer was damaged in flight, another try may be whole. Returns the
 * duration in ms when the container states it.
 */
export function checkSynthesizedAudio(audio: Uint8Array, encoding: TtsAudioEncoding, provider: string, what: string): number | undefined {
  const bad = (why: string) => new AiError('unavailable', `${provider}: ${what} returned ${why}`, { provider, retryable: true });
  if (audio.length === 0) throw bad('no audio');
  if (encoding === 'LINEAR16') {
    const wav = parseWav(audio);
    if (!wav) throw bad('audio that is not a WAV file');
    if (wav.truncated) throw bad(`truncated audio (the WAV header promises ${wav.declaredDataLength} bytes, ${wav.dataLength} arrived)`);
    return wav.durationMs;
  }
  if (encoding === 'MP3') {
    const scan = scanMp3(audio);
    if (!scan || scan.frames.length === 0) throw bad('audio that holds no MP3 frames');
    if (scan.truncated) throw bad('truncated audio (the last MP3 frame is cut short)');
    return scan.durationMs;
  }
  return oggOpusDurationMs(audio);
}

/** Encodings whose files can be joined into one playable file. */
export const JOINABLE_ENCODINGS: readonly TtsAudioEncoding[] = ['LINEAR16', 'MP3'];

/**
 * Joins the audio of consecutive requests: LINEAR16 under one WAV header sized for the
 * total, MP3 as one stream of frames. OGG_OPUS is not joined (chained Ogg streams play
 * in few players): callers refuse to split it.
 */
export function joinSynthesizedAudio(pieces: readonly Uint8Array[], encoding: TtsAudioEncoding, provider: string): Uint8Array {
  if (pieces.length === 1) return pieces[0]!;
  try {
    if (encoding === 'LINEAR16') return joinWav(pieces);
    if (encoding === 'MP3') return joinMp3(pieces);
  } catch (err) {
    throw new AiError('unavailable', `${provider}: could not join the audio of ${pieces.length} requests: ${(err as Error).message}`, { provider, retryable: true });
  }
  throw new AiError('invalid_request', `${provider}: ${encoding} audio of several requests cannot be joined`, { provider, retryable: false });
}

/** Duration of (joined) audio in ms, when the container states it. */
export function synthesizedDurationMs(audio: Uint8Array, encoding: TtsAudioEncoding): number | undefined {
  if (encoding === 'LINEAR16') return parseWav(audio)?.durationMs;
  if (encoding === 'MP3') return scanMp3(audio)?.durationMs;
  return oggOpusDurationMs(audio);
}

/**
 * Runs `task` for every item with at most `limit` in flight and returns results in item
 * order. The first failure aborts the shared controller (so siblings stop) and is rethrown.
 */
export async function mapLimited<T, R>(items: readonly T[], limit: number, controller: AbortController, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        results[i] = await task(items[i]!, i);
      } catch (error) {
        failure ??= { error };
        controller.abort(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
  return results;
}

/**
 * Synthesizes every piece (at most `limit` requests at once; the first failure aborts the
 * rest through `siblings`) and returns their audio in order. A piece counts as billed once
 * its request answered, even if its audio then fails the check: when the attempt fails after
 * some pieces were billed, the error carries `usage.characters` so the core records that cost.
 */
export async function synthesizePieces(
  pieces: readonly string[],
  limit: number,
  siblings: AbortController,
  request: (text: string, index: number) => Promise<Uint8Array>,
  check: (audio: Uint8Array, index: number) => void,
): Promise<Uint8Array[]> {
  let billedCharacters = 0;
  try {
    return await mapLimited(pieces, limit, siblings, async (text, index) => {
      const audio = await request(text, index);
      billedCharacters += codePoints(text);
      check(audio, index);
      return audio;
    });
  } catch (e) {
    if (billedCharacters > 0 && isAiError(e) && !e.usage) {
      throw new AiError(e.code, e.message, {
        retryable: e.retryable,
        ...(e.provider !== undefined && { provider: e.provider }),
        ...(e.status !== undefined && { status: e.status }),
        ...(e.retryAfterMs !== undefined && { retryAfterMs: e.retryAfterMs }),
        cause: e.cause,
        usage: { characters: billedCharacters },
      });
    }
    throw e;
  }
}

/**
 * The result of a synthesis that may have been split: the pieces' audio joined, the billed
 * characters (code points of every piece), the request count and the priced model.
 */
export function synthesisResult(
  pieces: readonly string[],
  audios: readonly Uint8Array[],
  encoding: TtsAudioEncoding,
  provider: string,
  modelId: string,
): TtsProviderResult {
  const audio = joinSynthesizedAudio(audios, encoding, provider);
  const audioDurationMs = synthesizedDurationMs(audio, encoding);
  return {
    audio,
    encoding,
    characters: pieces.reduce((n, p) => n + codePoints(p), 0),
    requests: pieces.length,
    modelId,
    ...(audioDurationMs !== undefined && { audioDurationMs }),
  };
}
