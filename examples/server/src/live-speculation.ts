// Speculative grading for the live turn: once the recognizer's guess is stable (a final result,
// or an interim one at or above a stability), the grade of that guess starts while the learner
// may still be finishing, as voice agents start their reply early. When the STT call's final
// transcript is the guess, its grade is adopted (the end of speech no longer waits for the
// grader); when not, it is aborted and the real transcript is graded. A discarded grade still has
// its usage row (the SDK records the aborted attempt); its event id belongs to no session event.

import { randomUUID } from 'node:crypto';
import type { AiClient, EvalResult } from '@korean-together/core';
import { gradeRequest, type TurnTask } from './turn-record.js';

interface Guess {
  transcript: string;
  eventId: string;
  abort: AbortController;
  grade: Promise<EvalResult>;
}

export class SpeculativeGrader {
  private guess: Guess | undefined;
  private finals: string[] = [];
  /** Speculative grades started and thrown away (the transcript changed), aborted if still running. */
  private readonly discarded: Promise<EvalResult>[] = [];

  constructor(
    private readonly client: AiClient,
    private readonly task: TurnTask,
    private readonly call: { sessionId: string; signal: AbortSignal },
    /** Interim results at or above this stability are graded ahead; undefined turns speculation off. */
    private readonly minStability: number | undefined,
  ) {}

  /** Feeds one recognition event. */
  onEvent(ev: { type: 'interim'; transcript: string; stability?: number } | { type: 'final'; transcript: string }): void {
    if (this.minStability === undefined) return;
    if (ev.type === 'final') {
      this.finals.push(ev.transcript.trim());
      return this.speculate(this.finals.join(' '));
    }
    if ((ev.stability ?? 0) >= this.minStability) this.speculate([...this.finals, ev.transcript.trim()].join(' '));
  }

  private speculate(transcript: string): void {
    transcript = transcript.trim();
    if (!transcript || this.guess?.transcript === transcript) return;
    this.drop();
    const abort = new AbortController();
    const eventId = randomUUID();
    const grade = this.client.eval.evaluate(gradeRequest(this.task, transcript), { sessionId: this.call.sessionId, eventId, signal: AbortSignal.any([abort.signal, this.call.signal]) });
    grade.catch(() => undefined);
    this.guess = { transcript, eventId, abort, grade };
  }

  private drop(): void {
    if (!this.guess) return;
    this.guess.abort.abort();
    this.discarded.push(this.guess.grade);
    this.guess = undefined;
  }

  /** How each discarded grade ended: finished before it was dropped (billed, `meta` set) or aborted. */
  settleDiscarded(): Promise<PromiseSettledResult<EvalResult>[]> {
    return Promise.allSettled(this.discarded);
  }

  /** The grade started for exactly `transcript` (with its event id), or undefined after aborting any other. */
  take(transcript: string): { eventId: string; grade: Promise<EvalResult> } | undefined {
    const g = this.guess;
    if (g && g.transcript === transcript) {
      this.guess = undefined;
      return { eventId: g.eventId, grade: g.grade };
    }
    this.drop();
    return undefined;
  }
}

