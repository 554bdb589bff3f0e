// Learner content as span attributes, only when the host opted in for the capability. Audio
// never becomes an attribute (even opted in), and nothing here ever sees a key: requests carry
// none, and only the fields named below are read.
import type { Attributes } from '@opentelemetry/api';
import type { Capability, EvalRequest, EvalResult, SttResult, TtsRequest } from '../spec/types.js';
import { ATTR } from './attributes.js';

/** `true`: every capability; or per capability. Default false (no content recorded). */
export type RecordContent = boolean | { stt?: boolean; tts?: boolean; eval?: boolean };

export function recordsContent(option: RecordContent | undefined, capability: Capability): boolean {
  if (option === undefined || option === false) return false;
  return option === true || option[capability] === true;
}

const text = (content: string) => ({ type: 'text', content });

/** What was sent, as `gen_ai.input.messages` (STT: nothing, its input is audio). */
export function inputContent(capability: Capability, req: unknown): Attributes | undefined {
  if (capability === 'eval') {
    const r = req as EvalRequest;
    const parts = [text(r.prompt), text(r.learnerAnswer)];
    if (typeof r.expectedAnswer === 'string') parts.push(text(r.expectedAnswer));
    return { [ATTR.inputMessages]: JSON.stringify([{ role: 'user', parts }]) };
  }
  if (capability === 'tts') return { [ATTR.inputMessages]: JSON.stringify([{ role: 'user', parts: [text((req as TtsRequest).text)] }]) };
  return undefined;
}

/** What came back, as `gen_ai.output.messages` (TTS: nothing, its output is audio). */
export function outputContent(capability: Capability, result: unknown): Attributes | undefined {
  if (capability === 'stt') {
    return { [ATTR.outputMessages]: JSON.stringify([{ role: 'assistant', parts: [text((result as SttResult).transcript)], finish_reason: 'stop' }]) };
  }
  if (capability === 'eval') {
    const { score, passFail, primaryErrorType, errors, suggestions, rationale } = result as EvalResult;
    const graded = JSON.stringify({ score, passFail, primaryErrorType, errors, suggestions, rationale });
    return { [ATTR.outputMessages]: JSON.stringify([{ role: 'assistant', parts: [text(graded)], finish_reason: 'stop' }]) };
  }
  return undefined;
}
