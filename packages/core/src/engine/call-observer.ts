// The engine's observer seam: what a tracer (the OpenTelemetry one in core/src/otel/, or any
// other) hears of a call. The engine holds no telemetry code: it calls these methods on the
// call's `trace`, which is undefined unless the client was given `telemetry` and the observer
// wanted this call, so an untraced call pays one property read per notification.
import type { AiError } from '../errors/ai-error.js';
import type { BreakerState } from '../policy/circuit-breaker.js';
import type { UsageUnits } from '../pricing/cost.js';
import type { AttemptInfo, CallOptions, Capability, Provider } from '../spec/types.js';
import type { UsageSink } from '../usage/usage-record.js';

/** What an observer is told of a call as it starts (the engine's CallState is one). */
export interface ObservedCall {
  readonly callId: string;
  /** What the call is, as messages name it: 'eval.evaluate', 'stt.transcribeStream'. */
  readonly operation: string;
  /** Epoch ms (the client's clock). */
  readonly startedAt: number;
  readonly deadlineMs: number;
  readonly req: unknown;
  readonly opts: CallOptions;
  readonly plan: { readonly capability: Capability; readonly chain: readonly { readonly key: string; readonly provider: Provider }[] };
}

/** One attempt (or breaker skip) as it was recorded: the same facts as its usage row. */
export interface ObservedAttempt {
  info: AttemptInfo;
  units: UsageUnits;
  /** The attempt's cost, integer micro-dollars. */
  costMicro: number;
  /** The timeout the attempt was given, ms (undefined for a breaker skip). */
  timeoutMs: number | undefined;
  error: AiError | undefined;
}

/** One call's observer. Every method is called synchronously on the call path and must not throw. */
export interface CallTrace {
  attempt(a: ObservedAttempt): void;
  /** A retry of `providerKey` after `delayMs`, following the attempt just recorded on that key. */
  retry(providerKey: string, delayMs: number, errorCode: string): void;
  /** The chain moved on to step `index`. */
  fallback(providerKey: string, index: number, errorCode: string | undefined): void;
  /** A hedge started step `index` beside a slow one. */
  hedge(providerKey: string, index: number): void;
  /** The breaker `key` ('capability:providerKey') is in `state` after this call asked it or gave it a verdict. */
  breaker(key: string, state: BreakerState): void;
  /** A budget cap refused the call (or one of its attempts). */
  budgetRefused(message: string): void;
  /** A streaming call delivered its first output: 'result' (an STT event), 'audio' (a TTS chunk). Later calls are ignored. */
  firstOutput(kind: 'result' | 'audio'): void;
  /** The call ended: `result` (with its `.meta`) or `error` (an AiError, as the caller sees it). */
  end(result: unknown, error: unknown): void;
}

/** What an observer may read of the client it watches (for gauges). */
export interface ObservedClient {
  breakerStates(): Record<string, BreakerState>;
  readonly sinks: readonly UsageSink[];
  /** The client's clock, epoch ms (every time an observer is told is on it). */
  now(): number;
}

/** Made once per client by `telemetry.observe(client)`. */
export interface CallObserver {
  /** A trace for this call, or undefined to leave it untraced (nothing registered, not sampled). */
  startCall(call: ObservedCall): CallTrace | undefined;
  /** The client closed: stop reading it (gauges). */
  close?(): void;
}

/** `createAiClient({ telemetry })`: `openTelemetry()` from `@korean-together/core/otel`, or your own. */
export interface Telemetry {
  observe(client: ObservedClient): CallObserver;
}
