// OpenAI's prompt caching as the chat emulator bills it: a prompt sharing a long enough prefix
// with a recent prompt to the same model has that prefix reported as cached_tokens.

import { estimateTokens } from './token-estimate.js';

/** Prompts shorter than this are never cached; longer shared prefixes cache in 128-token steps (OpenAI's prompt caching). */
export const PROMPT_CACHE_MIN_TOKENS = 1024;
export const PROMPT_CACHE_STEP_TOKENS = 128;

function commonPrefixLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

export class PromptCache {
  /** Recent prompts per model, for prompt-cache hits on a repeated prefix. */
  private readonly recentPrompts = new Map<string, string[]>();

  /** Defaults: OpenAI's rule. Gemini's implicit cache (2.5 Flash): 1,024 tokens at least, counted to the token (step 1). */
  constructor(private readonly rule: { minTokens: number; stepTokens: number } = { minTokens: PROMPT_CACHE_MIN_TOKENS, stepTokens: PROMPT_CACHE_STEP_TOKENS }) {}

  /**
   * Tokens of this prompt served from the prompt cache: the longest prefix it shares with a
   * recent prompt to the same model, when that prefix is at least 1,024 tokens, counted in
   * 128-token steps (OpenAI's documented caching rule). Remembers the prompt for later ones.
   */
  cachedPrefixTokens(model: string, promptText: string, promptTokens: number): number {
    const recent = this.recentPrompts.get(model) ?? [];
    let best = 0;
    for (const earlier of recent) best = Math.max(best, commonPrefixLength(earlier, promptText));
    recent.unshift(promptText);
    this.recentPrompts.set(model, recent.slice(0, 16));
    const shared = Math.min(estimateTokens(promptText.slice(0, best)), promptTokens);
    const { minTokens, stepTokens } = this.rule;
    if (shared < minTokens) return 0;
    return minTokens + Math.floor((shared - minTokens) / stepTokens) * stepTokens;
  }
}
