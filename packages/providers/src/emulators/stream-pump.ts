// The sending side of one emulated gRPC bidi stream: responses go out in order, each no earlier
// than its due time, and the streaming faults (fail before the first result, fail mid-stream,
// stall, slow first chunk) and the stream-wide ones (delay, hang) act on that sequence. Requests
// are read by the method's own handler, which pushes the responses it wants sent.

import type * as grpc from '@grpc/grpc-js';
import { status as grpcStatus } from '@grpc/grpc-js';
import { sleep } from './http-kit.js';
import { GRPC_CODE_NAMES } from './status-codes.js';
import type { Fault } from './types.js';

type AnyObject = Record<string, unknown>;

export interface PumpJob {
  /** False when there is nothing to send any more (a coalesced interim already went out): skipped without waiting. */
  ready?: () => boolean;
  /** Earliest send time (Date.now() ms), given how many results went out and when the last one did. */
  due: (sent: { results: number; lastSentAt: number | undefined }) => number;
  /** The response, built when it is due (so it is the freshest); undefined skips it. */
  build: () => AnyObject | undefined;
  /** Counts toward the faults' `afterResults` and the first result's faults. */
  result: boolean;
}

export class StreamPump {
  private chain: Promise<void> = Promise.resolve();
  private results = 0;
  private lastSentAt: number | undefined;
  private holdUntil = 0;
  /** Ended, failed or stalled: nothing more is sent. */
  private over = false;
  /** Ended or failed: the client has its status. */
  private closedWithStatus = false;

  constructor(
    private readonly call: grpc.ServerDuplexStream<AnyObject, AnyObject>,
    private readonly fault: Fault | undefined,
    private readonly signal: AbortSignal,
  ) {
    if (fault?.kind === 'hang') this.over = true;
    if (fault?.kind === 'delay') this.holdUntil = Date.now() + fault.ms;
  }

  /** True once the stream ended, failed or stalled. */
  get finished(): boolean {
    return this.over || this.signal.aborted;
  }

  /** True once the stream ended with a status (OK or an error); a stalled stream is not closed. */
  get closed(): boolean {
    return this.closedWithStatus;
  }

  /** Results sent so far. */
  get sentResults(): number {
    return this.results;
  }

  push(job: PumpJob): void {
    this.chain = this.chain.then(() => this.run(job));
  }

  /** Ends the stream OK once everything pushed before went out. */
  end(): void {
    this.chain = this.chain.then(() => {
      if (this.finished) return;
      this.over = true;
      this.closedWithStatus = true;
      this.call.end();
    });
  }

  /** Ends the stream with an error now, dropping what is still queued (a bad request, a limit). */
  fail(code: number, details: string, metadata?: grpc.Metadata): void {
    if (this.finished) return;
    this.over = true;
    this.closedWithStatus = true;
    this.call.emit('error', { code, details, ...(metadata && { metadata }) });
  }

  private async run(job: PumpJob): Promise<void> {
    if (this.finished || (job.ready && !job.ready())) return;
    const f = this.fault;
    let due = Math.max(this.holdUntil, job.due({ results: this.results, lastSentAt: this.lastSentAt }));
    if (job.result && this.results === 0 && f?.kind === 'slow_first_chunk') due += f.ms;
    const wait = due - Date.now();
    if (wait > 0 && !(await sleep(wait, this.signal))) return;
    if (this.finished) return;
    const msg = job.build();
    if (!msg) return;
    if (job.result) {
      if (f?.kind === 'stall' && this.results === (f.afterResults ?? 0)) {
        // Keep the stream open, silent, until the client gives up.
        this.over = true;
        return;
      }
      const failAt = f?.kind === 'fail_before_first_result' ? 0 : f?.kind === 'fail_mid_stream' ? (f.afterResults ?? 1) : undefined;
      if (failAt !== undefined && this.results === failAt && (f?.kind === 'fail_before_first_result' || f?.kind === 'fail_mid_stream')) {
        const code = f.status ?? grpcStatus.UNAVAILABLE;
        this.fail(code, f.message ?? `${GRPC_CODE_NAMES[code]}: emulated failure`);
        return;
      }
      this.results++;
    }
    this.lastSentAt = Date.now();
    this.call.write(msg);
  }
}
