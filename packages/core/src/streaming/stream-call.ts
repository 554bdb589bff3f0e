// One streaming call's state beside the engine's CallState: the deadline that runs from the end
// of the caller's input, what ends the walk early (refused input, a committed stream), and the
// attempt running now. The budget, the attempts, the usage rows and the settlement are the
// engine's own (engine/call-state, reservation, usage-row).
import type { AbortScope } from '../engine/abort-scope.js';
import { CallState } from '../engine/call-state.js';
import { reserveCall, settleCall } from '../engine/reservation.js';
import type { CallContext, CapabilityPlan } from '../engine/runtime.js';
import type { AiError } from '../errors/ai-error.js';
import { AbortReason } from '../policy/abort-reason.js';
import type { UsageUnits } from '../pricing/cost.js';
import type { CallOptions } from '../spec/types.js';

/** What a streaming call tells the engine about itself. */
export interface StreamSpec {
  /** Names the call in messages: 'stt.transcribeStream'. */
  operation: string;
  /** The most one attempt can bill (the budget reserves this per attempt). */
  worstCase: UsageUnits;
  /** Longest the input may run, ms: the call ends by deadlineMs after it at the latest. Undefined: the deadline runs from the latest input instead. */
  inputBoundMs: number | undefined;
}

/**
 * A streaming call. The deadline (`deadlineMs`) runs from the end of the caller's input; while
 * the input runs it runs from the latest item received, and never past `inputBoundMs` +
 * `deadlineMs` after the start. Streams never hedge: two attempts on one microphone would bill
 * twice for one turn.
 */
export class StreamCall {
  readonly call: CallState;
  /** Ends the walk with this error: the input was refused or failed. */
  fatal: AiError | undefined;
  /** Something the caller cannot take back was delivered (a final result, an audio chunk): no fallback after it. */
  committed = false;
  inputEnded = false;
  /** The attempt running now, so refused input aborts it at once. */
  current: AbortScope | undefined;
  private timer: unknown;
  private readonly outerAt: number;

  constructor(ctx: CallContext, plan: CapabilityPlan, req: unknown, opts: CallOptions, readonly spec: StreamSpec) {
    const streamPlan: CapabilityPlan = {
      ...plan,
      policy: { ...plan.policy, hedgeAfterMs: undefined },
      descriptor: { ...plan.descriptor, operation: spec.operation, worstCase: () => spec.worstCase },
    };
    const call = new CallState(ctx, streamPlan, req, undefined, opts);
    this.call = call;
    const bound = spec.inputBoundMs ?? 0;
    this.outerAt = spec.inputBoundMs === undefined ? Infinity : call.startedAt + bound + call.deadlineMs;
    call.reservationTtlMs += bound;
    this.arm(call.startedAt + call.deadlineMs + bound);
  }

  get clock() {
    return this.call.ctx.clock;
  }

  private arm(at: number): void {
    const { call } = this;
    const deadlineAt = Math.min(at, this.outerAt);
    call.deadlineAt = deadlineAt;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => call.deadlinePassed(), Math.max(0, deadlineAt - this.clock.now()));
  }

  /** An input item arrived: without an input bound, the deadline runs from it. */
  touched(): void {
    if (this.spec.inputBoundMs === undefined && !this.inputEnded) this.arm(this.clock.now() + this.call.deadlineMs);
  }

  /** The caller's input ended: the call has deadlineMs from now. */
  inputEnd(): void {
    if (this.inputEnded) return;
    this.inputEnded = true;
    this.arm(this.clock.now() + this.call.deadlineMs);
  }

  /** Ends the call with `error` (refused or failed input): the running attempt is aborted now. */
  refuse(error: AiError): void {
    if (this.fatal !== undefined) return;
    this.fatal = error;
    this.current?.abort(new AbortReason('caller', error.message));
  }

  /** Reserves the worst case of one attempt against the caps (no cap: nothing to ask). */
  async reserve(): Promise<void> {
    if (this.call.limits.length > 0) await reserveCall(this.call);
  }

  /** The call is over: settle the budget in the background, stop the deadline, leave the in-flight set, end the trace. */
  finish(result: unknown, error: unknown): void {
    const { call } = this;
    call.trace?.end(result, error);
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (call.reserved) settleCall(call);
    call.end();
  }
}
