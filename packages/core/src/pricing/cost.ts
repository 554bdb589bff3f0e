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

interface PlanRow {
  row: PriceRow;
  nano: bigint;
  /** The same price as a number: exact, since it is a safe integer. */
  nanoNumber: number;
}

/**
 * The rows pricing one model, prepared once: prices parsed to integer nano-dollars, and which
 * inputs the model prices apart. Costing an attempt is then plain integer arithmetic, exact
 * while every product stays a safe integer (any realistic attempt); past that it is redone
 * with bigint.
 */
export class PricePlan {
  private readonly plan: PlanRow[];
  private readonly apart: { audio: boolean; cached: boolean };

  constructor(readonly rows: readonly PriceRow[]) {
    this.plan = rows.map((row) => {
      const nano = usdToNano(row.usd);
      return { row, nano, nanoNumber: Number(nano) };
    });
    // A model with its own audio (or cached) input price bills those tokens there and the rest as text.
    this.apart = { audio: rows.some((r) => r.unit === 'audio_token_in'), cached: rows.some((r) => r.unit === 'cached_token_in') };
  }

  /**
   * Exact cost in integer micro-dollars: sum over rows of billedUnits x price / per, each row
   * rounded up to the nano-dollar (a sub-nano remainder never hides a charge), then half-up to
   * the micro-dollar once per attempt.
   */
  costMicro(usage: UsageUnits): number {
    let nano = 0;
    for (const p of this.plan) {
      const units = billedUnits(p.row, unitsFor(p.row.unit, usage, this.apart));
      if (units === 0) continue;
      const total = units * p.nanoNumber;
      if (!Number.isSafeInteger(total) || !Number.isSafeInteger(units)) return this.costMicroBig(usage);
      const per = p.row.per;
      // Division of safe integers: the float quotient never rounds up across an integer, and the
      // remainder check keeps it exact either way.
      let q = Math.floor(total / per);
      let r = total - q * per;
      if (r < 0) {
        q--;
        r += per;
      }
      nano += q + (r === 0 ? 0 : 1);
      if (!Number.isSafeInteger(nano + 500)) return this.costMicroBig(usage);
    }
    // nano -> micro, half-up
    return Math.floor((nano + 500) / 1000);
  }

  /** The same sum in bigint: the reference, and the fallback for products past 2^53. */
  costMicroBig(usage: UsageUnits): number {
    let nano = 0n;
    for (const p of this.plan) {
      const units = billedUnits(p.row, unitsFor(p.row.unit, usage, this.apart));
      if (units === 0) continue;
      const total = BigInt(units) * p.nano;
      const per = BigInt(p.row.per);
      nano += total / per + (total % per === 0n ? 0n : 1n);
    }
    return Number((nano + 500n) / 1000n);
  }
}

const plans = new WeakMap<readonly PriceRow[], PricePlan>();

/**
 * Exact cost in integer micro-dollars: sum over rows of billedUnits x price / per, computed
 * in integer nano-dollars and rounded half-up to the micro-dollar once per attempt.
 */
export function costMicroUsd(rows: readonly PriceRow[], usage: UsageUnits): number {
  let plan = plans.get(rows);
  if (!plan) {
    plan = new PricePlan(rows);
    plans.set(rows, plan);
  }
  return plan.costMicro(usage);
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

/** Prices one attempt's usage. Rows are looked up once per (capability, model) and kept. */
export class Pricer {
  private readonly cache = new Map<Capability, Map<string, PricePlan>>();

  constructor(readonly table: PriceTable) {}

  rowsFor(capability: Capability, modelId: string): PriceRow[] {
    return findPriceRows(this.table, capability, modelId);
  }

  /** The prepared rows of a model (empty when it is unpriced). */
  planFor(capability: Capability, modelId: string): PricePlan {
    let byModel = this.cache.get(capability);
    if (!byModel) {
      byModel = new Map();
      this.cache.set(capability, byModel);
    }
    let plan = byModel.get(modelId);
    if (!plan) {
      plan = new PricePlan(this.rowsFor(capability, modelId));
      // Request-chosen models (a TTS voice) are bounded in number by the table's globs in
      // practice; the cap keeps a stream of odd names from growing the cache without end.
      if (byModel.size < 10_000) byModel.set(modelId, plan);
    }
    return plan;
  }

  /** Throws invalid_config when the model has no price row (a budget cannot protect an unpriced model). */
  assertPriced(capability: Capability, modelId: string, providerKey: string): void {
    if (this.planFor(capability, modelId).rows.length === 0) {
      throw new AiError(
        'invalid_config',
        `providers.${providerKey}: no price for ${capability} model '${modelId}' in price table ${this.table.version}; add a row with pricing.rows`,
        { retryable: false },
      );
    }
  }

  costMicro(capability: Capability, modelId: string, usage: UsageUnits): number {
    return this.planFor(capability, modelId).costMicro(usage);
  }
}
