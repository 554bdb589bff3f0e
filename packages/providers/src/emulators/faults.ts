// Fault scripting and hit counting shared by every emulated endpoint.

import { AiError } from '@korean-together/core';
import type { EmulatorTarget, Fault, FaultRule, Faults, Hits } from './types.js';
import { seededRandom } from '@korean-together/core/testing';

export const EMULATOR_TARGETS: readonly EmulatorTarget[] = ['gemini', 'gemini-vertex', 'openai', 'google-stt', 'google-tts', 'whisper', 'http-tts'];

/** Which targets each fault kind makes sense for; add() refuses the rest. */
export const FAULT_TARGETS: Record<Fault['kind'], readonly EmulatorTarget[]> = {
  delay: EMULATOR_TARGETS,
  hang: EMULATOR_TARGETS,
  status: EMULATOR_TARGETS,
  api_key_invalid: EMULATOR_TARGETS,
  insufficient_quota: ['openai', 'whisper', 'http-tts'],
  refusal: ['openai'],
  max_tokens: ['gemini', 'gemini-vertex', 'openai'],
  content_filter: ['openai'],
  context_length_exceeded: ['openai'],
  fenced_json: ['gemini', 'gemini-vertex'],
  malformed_json: ['gemini', 'gemini-vertex', 'openai', 'whisper'],
  schema_invalid: ['gemini', 'gemini-vertex', 'openai'],
  empty_candidates: ['gemini', 'gemini-vertex'],
  safety: ['gemini', 'gemini-vertex'],
  truncated_audio: ['google-tts', 'http-tts'],
  fail_before_first_result: ['google-stt', 'google-tts'],
  fail_mid_stream: ['google-stt', 'google-tts'],
  stall: ['google-stt', 'google-tts'],
  slow_first_chunk: ['google-stt', 'google-tts'],
};

/** Fault kinds only a streaming call shows; unary requests pass such rules by (without using them up). */
export const STREAM_FAULT_KINDS: ReadonlySet<Fault['kind']> = new Set(['fail_before_first_result', 'fail_mid_stream', 'stall', 'slow_first_chunk']);

// The same seeded PRNG as the policy simulator's (mulberry32): the same seed and the same sequence of
// requests always give the same faults.
export { seededRandom };

function invalid(rule: FaultRule, what: string): never {
  throw new AiError('invalid_config', `emulators: fault rule for '${String(rule?.target)}' is invalid: ${what}`, { retryable: false });
}

function validate(rule: FaultRule): void {
  if (!rule || typeof rule !== 'object') invalid(rule, 'expected an object');
  if (!EMULATOR_TARGETS.includes(rule.target)) invalid(rule, `target must be one of ${EMULATOR_TARGETS.join(', ')}`);
  if (rule.model !== undefined && (typeof rule.model !== 'string' || rule.model === '')) invalid(rule, 'model must be a non-empty string');
  if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times > 0)) invalid(rule, `times must be a positive integer (got ${rule.times})`);
  if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1)) {
    invalid(rule, `probability must be within 0..1 (got ${rule.probability})`);
  }
  const f = rule.fault;
  if (!f || typeof f !== 'object' || !(f.kind in FAULT_TARGETS)) invalid(rule, `fault.kind must be one of ${Object.keys(FAULT_TARGETS).join(', ')}`);
  if (!FAULT_TARGETS[f.kind].includes(rule.target)) invalid(rule, `fault '${f.kind}' does not apply to it (only to ${FAULT_TARGETS[f.kind].join(', ')})`);
  if (f.kind === 'delay' && !(Number.isFinite(f.ms) && f.ms >= 0)) invalid(rule, `delay ms must be a non-negative number (got ${f.ms})`);
  if (f.kind === 'slow_first_chunk' && !(Number.isFinite(f.ms) && f.ms >= 0)) invalid(rule, `slow_first_chunk ms must be a non-negative number (got ${f.ms})`);
  if ((f.kind === 'fail_mid_stream' || f.kind === 'stall') && f.afterResults !== undefined && !(Number.isInteger(f.afterResults) && f.afterResults >= 0)) {
    invalid(rule, `afterResults must be a non-negative integer (got ${f.afterResults})`);
  }
  if ((f.kind === 'fail_before_first_result' || f.kind === 'fail_mid_stream') && f.status !== undefined && !(Number.isInteger(f.status) && f.status >= 1 && f.status <= 16)) {
    invalid(rule, `status must be a gRPC code 1..16 (got ${f.status})`);
  }
  if (f.kind === 'status') {
    const ok = Number.isInteger(f.status) && ((f.status >= 1 && f.status <= 16) || (f.status >= 400 && f.status <= 599));
    if (!ok) invalid(rule, `status must be an HTTP error status 400..599 or a gRPC code 1..16 (got ${f.status})`);
    if (f.retryAfterSeconds !== undefined && !(Number.isFinite(f.retryAfterSeconds) && f.retryAfterSeconds >= 0)) {
      invalid(rule, `retryAfterSeconds must be a non-negative number (got ${f.retryAfterSeconds})`);
    }
    if (f.retryAfterMs !== undefined) {
      if (rule.target !== 'openai' && rule.target !== 'whisper' && rule.target !== 'http-tts') {
        invalid(rule, 'retryAfterMs (the retry-after-ms header) applies only to openai, whisper and http-tts');
      }
      if (!(Number.isFinite(f.retryAfterMs) && f.retryAfterMs >= 0)) invalid(rule, `retryAfterMs must be a non-negative number (got ${f.retryAfterMs})`);
    }
  }
}

interface ActiveRule {
  rule: FaultRule;
  remaining: number;
}

/** The emulators' fault book: rules in order, first applicable wins. */
export class FaultScript implements Faults {
  private rules: ActiveRule[] = [];
  private readonly random: () => number;

  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  add(rule: FaultRule): () => void {
    validate(rule);
    const active: ActiveRule = { rule: { ...rule, fault: { ...rule.fault } }, remaining: rule.times ?? Infinity };
    this.rules.push(active);
    return () => {
      this.rules = this.rules.filter((r) => r !== active);
    };
  }

  clear(): void {
    this.rules = [];
  }

  /**
   * The fault for one request, or undefined to answer normally. `names` are the request's
   * model / voice names; a rule with `model` matches when it equals one of them. A rule with
   * a probability below 1 draws one number from the seeded source each time it is consulted;
   * `times` counts only applications. Streaming-only kinds apply only when `streaming` is true.
   */
  pick(target: EmulatorTarget, names: readonly string[], streaming = false): Fault | undefined {
    for (const active of this.rules) {
      const { rule } = active;
      if (rule.target !== target || active.remaining <= 0) continue;
      if (!streaming && STREAM_FAULT_KINDS.has(rule.fault.kind)) continue;
      if (rule.model !== undefined && !names.includes(rule.model)) continue;
      const p = rule.probability ?? 1;
      if (p < 1 && !(this.random() < p)) continue;
      active.remaining--;
      if (active.remaining <= 0) this.rules = this.rules.filter((r) => r !== active);
      return rule.fault;
    }
    return undefined;
  }
}

/** Request and abort counters per target, and per target and model / voice name. */
export class HitCounter implements Hits {
  private readonly received = new Map<string, number>();
  private readonly abortedCounts = new Map<string, number>();

  private static key(target: EmulatorTarget, name?: string): string {
    return name === undefined ? target : `${target}\u0000${name}`;
  }

  private static bump(map: Map<string, number>, target: EmulatorTarget, names: readonly string[]): void {
    const keys = [HitCounter.key(target), ...[...new Set(names)].map((n) => HitCounter.key(target, n))];
    for (const key of keys) map.set(key, (map.get(key) ?? 0) + 1);
  }

  /** Counts one received request. */
  record(target: EmulatorTarget, names: readonly string[]): void {
    HitCounter.bump(this.received, target, names);
  }

  /** Counts one request the client gave up on before the answer was sent. */
  recordAborted(target: EmulatorTarget, names: readonly string[]): void {
    HitCounter.bump(this.abortedCounts, target, names);
  }

  count(target: EmulatorTarget, model?: string): number {
    return this.received.get(HitCounter.key(target, model)) ?? 0;
  }

  aborted(target: EmulatorTarget, model?: string): number {
    return this.abortedCounts.get(HitCounter.key(target, model)) ?? 0;
  }

  reset(): void {
    this.received.clear();
    this.abortedCounts.clear();
  }
}
