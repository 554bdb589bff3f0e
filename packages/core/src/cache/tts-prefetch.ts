// client.tts.prefetch: a lesson's fixed lines synthesised ahead, so learners' calls hit the
// cache. Each line is an ordinary call (same policy, budget, usage rows); a line already cached
// costs nothing.
import { AiError, isAiError } from '../errors/ai-error.js';
import { microToUsd, usdToMicro } from '../pricing/cost.js';
import type { CallOptions, TtsRequest, TtsResult } from '../spec/types.js';

export interface TtsPrefetchOptions extends CallOptions {
  /** Lines synthesised at once. Default 4. */
  concurrency?: number;
  /** After each line, in the order they finish. A handler that throws is ignored. */
  onProgress?(e: TtsPrefetchProgress): void;
}

export interface TtsPrefetchProgress {
  /** Index of the line in `texts`. */
  index: number;
  outcome: 'hit' | 'synthesized' | 'failed';
  /** The AiError code when the line failed. */
  errorCode?: string;
  /** Lines finished so far, this one included, and how many there are. */
  done: number;
  total: number;
}

export interface TtsPrefetchReport {
  total: number;
  /** Lines that were cached already. */
  hits: number;
  /** Lines synthesised (and now cached). */
  synthesized: number;
  failed: number;
  /** Each failed line's index and error code (never its text). */
  failures: { index: number; errorCode: string }[];
  /** What the prefetch spent, USD (exact to the micro-dollar). */
  costUsd: number;
}

/**
 * Runs `synthesize` over every distinct text (after the first, a repeated line is a hit) and
 * reports what happened. Never rejects for one line's failure; rejects `invalid_config` when
 * the policy has no TTS cache (prefetching would then only spend).
 */
export async function prefetchTts(
  synthesize: (req: TtsRequest, opts: CallOptions) => Promise<TtsResult>,
  cached: boolean,
  texts: readonly string[],
  req: Omit<TtsRequest, 'text'>,
  options: TtsPrefetchOptions = {},
): Promise<TtsPrefetchReport> {
  if (!cached) throw new AiError('invalid_config', 'tts.prefetch: cache.tts: the policy has no TTS cache, so prefetched audio would not be kept', { retryable: false });
  if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) throw new AiError('invalid_request', 'tts.prefetch: texts: must be an array of strings', { retryable: false });
  const { concurrency = 4, onProgress, ...callOptions } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new AiError('invalid_request', 'tts.prefetch: concurrency: must be an integer from 1 to 64', { retryable: false });
  const report: TtsPrefetchReport = { total: texts.length, hits: 0, synthesized: 0, failed: 0, failures: [], costUsd: 0 };
  let costMicro = 0;
  let next = 0;
  let done = 0;
  const progress = (e: TtsPrefetchProgress): void => {
    try {
      onProgress?.(e);
    } catch {
      // a progress handler never stops the prefetch
    }
  };
  async function worker(): Promise<void> {
    while (next < texts.length) {
      const index = next++;
      let outcome: TtsPrefetchProgress['outcome'];
      let errorCode: string | undefined;
      try {
        const r = await synthesize({ ...req, text: texts[index]! }, callOptions);
        costMicro += usdToMicro(r.meta.costUsd);
        outcome = r.meta.cache === 'hit' ? 'hit' : 'synthesized';
      } catch (e) {
        outcome = 'failed';
        errorCode = isAiError(e) ? e.code : 'unavailable';
        report.failures.push({ index, errorCode });
      }
      if (outcome === 'hit') report.hits++;
      else if (outcome === 'synthesized') report.synthesized++;
      else report.failed++;
      done++;
      progress(errorCode === undefined ? { index, outcome, done, total: texts.length } : { index, outcome, errorCode, done, total: texts.length });
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, texts.length) }, worker));
  report.costUsd = microToUsd(costMicro);
  return report;
}
