import { randomUUID } from 'node:crypto';
import type { BudgetLimit } from '../budget/budget-store.js';
import type { AiError } from '../errors/ai-error.js';
import { AbortReason, type AbortCause } from '../policy/abort-reason.js';
import { onAbort } from '../policy/shared-abort.js';
import type { AttemptInfo, CallOptions } from '../spec/types.js';
import type { CallTrace } from './call-observer.js';
import { Lane } from './lane.js';
import type { CallContext, CapabilityPlan } from './runtime.js';

/** A reservation outlives its call by this much, so a slow settle still finds it. */
const RESERVATION_GRACE_MS = 60_000;
/** Shared by every call without a budget: nothing to reserve, nothing allocated. */
const NO_LIMITS: BudgetLimit[] = [];
const NO_WORST: number[] = [];
const NO_TOP_UPS: string[] = [];

/**
 * Everything one call knows while it runs, in one place: what was asked, the deadline, the
 * attempts so far, what the budget holds for it. The driver (call.ts) and the steps and
 * attempts it runs (engine/) read and update it; nothing else shares it.
 */
export class CallState {
  readonly callId = randomUUID();
  readonly startedAt: number;
  readonly deadlineMs: number;
  /** Epoch ms by which the call must be over (a stream moves it to deadlineMs after its input ends). */
  deadlineAt: number;
  /** The lane the chain runs on in order (hedging gives each step its own). */
  readonly lane: Lane;
  /** Set once the call is aborted (deadline, caller, closing). */
  reason: AbortReason | undefined;
  /** The call's telemetry (call-observer.ts); undefined when untraced. */
  readonly trace: CallTrace | undefined;

  /** Every attempt (and breaker skip) so far, in order. */
  readonly attempts: AttemptInfo[] = [];
  /** Attempt numbers handed out (breaker skips included). */
  attemptCount = 0;
  /** Attempts that reached a provider: each needs a reservation. */
  providerAttempts = 0;
  /** Sum of every attempt's cost, micro-dollars. */
  totalMicro = 0;

  /** The caps this call counts against; empty when no budget applies (nothing is reserved). */
  readonly limits: BudgetLimit[];
  /** How long the reservation holds (a stream's covers its longest input too). */
  reservationTtlMs: number;
  /** Worst case of one attempt per chain step, micro-dollars (budgeted calls only). */
  worstMicro: number[] = NO_WORST;
  /** Attempts the reservations so far cover. */
  reservedAttempts = Infinity;
  /** The main reservation (id: callId) is held and must be settled. */
  reserved = false;
  /** Top-up reservation ids, released at settle. */
  topUps: string[] = NO_TOP_UPS;
  /** Numbers top-ups synchronously, so two hedged lanes never share an id. */
  topUpSeq = 0;
  /** Why the budget refused an attempt mid-call (it ends the call with this code). */
  budgetFailure: AiError | undefined;

  private controller: AbortController | undefined;
  private detachCaller: (() => void) | undefined;

  constructor(
    readonly ctx: CallContext,
    readonly plan: CapabilityPlan,
    readonly req: unknown,
    readonly facts: unknown,
    readonly opts: CallOptions,
  ) {
    this.startedAt = ctx.clock.now();
    this.deadlineMs = opts.deadlineMs ?? plan.policy.deadlineMs;
    // The deadline starts before the budget is asked, so a slow budget store cannot stretch the call.
    this.deadlineAt = this.startedAt + this.deadlineMs;
    this.reservationTtlMs = this.deadlineMs + RESERVATION_GRACE_MS;
    this.lane = new Lane(ctx.clock);
    this.limits = ctx.budget.enabled ? ctx.budget.limitsFor(opts.sessionId, this.startedAt) : NO_LIMITS;
    ctx.calls.add(this);
    // Started after the fields above: the observer reads the call as it starts (parent context, chain).
    this.trace = ctx.observer === undefined ? undefined : ctx.observer.startCall(this);
    // Many calls may share the caller's signal: one listener per signal (shared-abort.ts).
    if (opts.signal) this.detachCaller = onAbort(opts.signal, () => this.abort('caller', 'the caller aborted the call'));
  }

  get operation(): string {
    return this.plan.descriptor.operation;
  }

  get cause(): AbortCause | undefined {
    return this.reason?.abortCause;
  }

  /** The call's own AbortSignal, made on first use (hedged walks derive their lanes from it). */
  get signal(): AbortSignal {
    let c = this.controller;
    if (c === undefined) {
      c = this.controller = new AbortController();
      if (this.reason) c.abort(this.reason);
    }
    return c.signal;
  }

  /** Aborts the call once: every lane, and what each runs, stops with `cause`. */
  abort(cause: AbortCause, message: string): void {
    if (this.reason !== undefined) return;
    const reason = new AbortReason(cause, message);
    this.reason = reason;
    this.lane.abort(reason);
    this.controller?.abort(reason);
  }

  /** Aborts the call: its deadline has come. */
  deadlinePassed(): void {
    this.abort('deadline', `call deadline of ${this.deadlineMs} ms passed`);
  }

  /** The call is over: it leaves the client's in-flight set and stops listening to the caller. */
  end(): void {
    this.detachCaller?.();
    this.ctx.calls.delete(this);
  }
}
