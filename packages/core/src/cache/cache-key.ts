// Cache keys: a sha256 over a canonical encoding of exactly the fields that change the answer.
// A field added here changes every key (KEY_VERSION): old entries are then simply never found.
import { createHash, createHmac } from 'node:crypto';
import { evalSystemInstruction, evalUserPrompt } from '../eval/prompt.js';
import type { EvalRequest, Provider, TtsProvider, TtsRequest } from '../spec/types.js';
import { normalizeText } from './normalize-text.js';

/** Bumped whenever the fields or their encoding change. */
const KEY_VERSION = 1;

/** A chain step as a key sees it. */
export interface KeyedProvider {
  key: string;
  provider: Provider;
}

/**
 * JSON of a fixed list of [name, value] pairs: the same fields always in the same order, absent
 * ones as null. With a salt, an HMAC keyed by it: without the salt, a reader of the store cannot
 * confirm a guessed (low-entropy) learner answer by hashing it.
 */
function digest(kind: string, fields: [string, unknown][], salt: string | undefined): string {
  const h = salt === undefined ? createHash('sha256') : createHmac('sha256', salt);
  h.update(JSON.stringify([kind, KEY_VERSION, fields]));
  return `${kind}:${h.digest('hex')}`;
}

/** A provider's `cacheIdentity` as key fields: none when it has none, so keys made before it existed stay valid. */
function identity(p: Provider): [string, unknown][] {
  return p.cacheIdentity === undefined ? [] : [['cacheIdentity', p.cacheIdentity]];
}

/**
 * The key of a TTS request on one provider: provider key, provider name and the model the
 * request is priced as (its voice tier), the voice, the normalised text, encoding, sample rate
 * and speaking rate, defaults filled in so that leaving one out and naming its default agree,
 * and the provider's `cacheIdentity` when it has one; keyed by `salt` (the client's
 * `cacheKeySalt`) when given. The price version is not part of it: a new price does not change the audio.
 */
export function ttsCacheKey(step: KeyedProvider, req: TtsRequest, salt?: string): string {
  const p = step.provider as TtsProvider;
  const sampleRateHertz = (req as { sampleRateHertz?: number }).sampleRateHertz;
  return digest('tts', [
    ['providerKey', step.key],
    ['provider', p.name],
    ['model', p.modelIdFor ? p.modelIdFor(req) : p.modelId],
    ['voice', req.voice ?? null],
    ['text', normalizeText(req.text)],
    ['encoding', req.audioEncoding ?? 'MP3'],
    ['sampleRateHertz', sampleRateHertz ?? null],
    ['speakingRate', req.speakingRate ?? 1],
    ...identity(p),
  ], salt);
}

const promptVersions = new Map<number, string>();
/**
 * The grading prompt's version: a hash of the instruction and of the user turn's template, so
 * any change to the rubric or the template (eval/prompt.ts) makes earlier grades unreachable.
 */
export function gradingPromptVersion(passMark: number): string {
  let v = promptVersions.get(passMark);
  if (v === undefined) {
    const probe: EvalRequest = { prompt: '\u0001', learnerAnswer: '\u0002', expectedAnswer: '\u0003', targetFormality: 'haeyo', level: '\u0004' };
    v = createHash('sha256').update(`${evalSystemInstruction(passMark)}\n${evalUserPrompt(probe)}`).digest('hex').slice(0, 16);
    promptVersions.set(passMark, v);
  }
  return v;
}

/**
 * The key of an eval request under a chain: the task, the learner answer and the expected
 * answer (each normalised), target formality, level, pass mark, the grading prompt's version
 * and the chain (every step's key, provider, model and `cacheIdentity`, in order). Attached audio counts by
 * its hash and type. Keyed by `salt` (the client's `cacheKeySalt`) when given.
 */
export function evalCacheKey(chain: readonly KeyedProvider[], req: EvalRequest, passMark: number, salt?: string): string {
  const audio = req.audio ? [req.audio.mimeType, createHash('sha256').update(req.audio.data).digest('hex')] : null;
  return digest('eval', [
    ['chain', chain.map(({ key, provider }) => [key, provider.name, provider.modelId, ...identity(provider).map(([, v]) => v)])],
    ['prompt', normalizeText(req.prompt)],
    ['learnerAnswer', normalizeText(req.learnerAnswer)],
    ['expectedAnswer', req.expectedAnswer === undefined ? null : normalizeText(req.expectedAnswer)],
    ['targetFormality', req.targetFormality ?? null],
    ['level', req.level === undefined ? null : normalizeText(req.level)],
    ['passMark', passMark],
    ['promptVersion', gradingPromptVersion(passMark)],
    ['audio', audio],
  ], salt);
}
