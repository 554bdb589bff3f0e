import { AiError } from '../errors/ai-error.js';
import type { Capability } from '../spec/types.js';
import { findPriceRows, type PriceRow, type PriceTable, type PriceUnit } from './price-table.js';

/** Raw usage of one attempt, in the units the price table charges. */
export interface UsageUnits {
  /** Every input token, audio included. */
  tokensIn?: number;
  /** The audio part of tokensIn, priced by an 'audio_token_in' row when the model has one. */
  audioTokensIn?: number;
  /**
   * The part of tokensIn served from the provider's prompt cache (OpenAI
   * `prompt_tokens_details.cached_tokens`, Gemini `cachedContentTokenCount`), priced by a
   * 'cached_token_in' row when the model has one, else at the input rate.
   */
  cachedTokensIn?: number;
  tokensOut?: number;
  audioDurationMs?: number;
  characters?: number;
  requests?: number;
}

/** Parses a decimal USD string into integer nano-dollars (exact for up to 9 decimals). */
function usdToNano(usd: string): bigint {
  const [whole = '0', frac = ''] = usd.split('.');
  return BigInt(whole) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9));
}

function unitsFor(unit: PriceUnit, usage: UsageUnits, apart: { audio: boolean; cached: boolean }): number {
  const tokensIn = usage.tokensIn ?? 0;
  const audio = Math.min(usage.audioTokensIn ?? 0, usage.tokensIn ?? usage.audioTokensIn ?? 0);
  // Cached tokens are text tokens of the prompt: never more than what is left after the audio.
  const cached = Math.min(usage.cachedTokensIn ?? 0, Math.max(0, tokensIn - (apart.audio ? audio : 0)));
  switch (unit) {
    case 'token_in':
      return tokensIn - (apart.audio ? Math.min(audio, tokensIn) : 0) - (apart.cached ? cached : 0);
    case 'audio_token_in':
      return audio;
    case 'cached_token_in':
      return cached;
    case 'token_out':
      return usage.tokensOut ?? 0;
    case 'audio_second':
      // Audio is billed in whole seconds, rounded up; increments apply on top.
      return usage.audioDurationMs === undefined ? 0 : Math.ceil(usage.audioDurationMs / 1000);
    case 'character':
      return usage.characters ?? 0;
    case 'request':
      return usage.requests ?? 1;
  }
}

/** Billed units after the row's minimum and increment. Zero usage bills zero (no request, no minimum). */
export function billedUnits(row: Pick<PriceRow, 'incrementUnits' | 'minimumUnits'>, units: number): number {
  if (!Number.isFinite(units) || units <= 0) return 0;
  const inc = row.incrementUnits ?? 1;
  const stepped = Math.ceil(units / inc) * inc;
  return Math.max(row.minimumUnits ?? 0, stepped);
}

/**
 * Exact cost in integer micro-dollars: sum over rows of billedUnits x price / per, computed
 * in nano-dollars with bigint and rounded half-up to the micro-dollar once per attempt.
 */
export function costMicroUsd(rows: readonly PriceRow[], usage: UsageUnits): number {
  let nano = 0n;
  // A model with its own audio (or cached) input price bills those tokens there and the rest as text.
  const apart = { audio: rows.some((r) => r.unit === 'audio_token_in'), cached: rows.some((r) => r.unit === 'cached_token_in') };
  for (const row of rows) {
    const units = billedUnits(row, unitsFor(row.unit, usage, apart));
    if (units === 0) continue;
    const total = BigInt(units) * usdToNano(row.usd);
    const per = BigInt(row.per);
    // Round each row up to the nano-dollar: a sub-nano remainder never hides a charge.
    nano += total / per + (total % per === 0n ? 0n : 1n);
  }
  // nano -> micro, half-up
  const micro = (nano + 500n) / 1000n;
  return Number(micro);
}

/** Integer micro-dollars to a USD number (exact to 6 decimals). */
export function microToUsd(micro: number): number {
  // Integer / 1e6 is the closest double to the decimal, so it prints back exactly.
  return Math.round(micro) / 1_000_000;
}

/** USD (number, at most 6 decimals meaningful) to integer micro-dollars. */
export function usdToMicro(usd: number): number {
  return Math.round(usd * 1_000_000);
}

/** Prices one attempt's usage. */
export class Pricer {
  constructor(readonly table: PriceTable) {}

  rowsFor(capability: Capability, modelId: string): PriceRow[] {
    return findPriceRows(this.table, capability, modelId);
  }

  /** Throws invalid_config when the model has no price row (a budget cannot protect an unpriced model). */
  assertPriced(capability: Capability, modelId: string, providerKey: string): void {
    if (this.rowsFor(capability, modelId).length === 0) {
      throw new AiError(
        'invalid_config',
        `providers.${providerKey}: no price for ${capability} model '${modelId}' in price table ${this.table.version}; add a row with pricing.rows`,
        { retryable: false },
      );
    }
  }

  costMicro(capability: Capability, modelId: string, usage: UsageUnits): number {
    return costMicroUsd(this.rowsFor(capability, modelId), usage);
  }
}
