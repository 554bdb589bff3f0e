// CI gates on a simulation report: 'eval.p99<=7000', 'costPerLesson<=0.02', 'stt.successRate>=0.99'.
import { CAPABILITIES, type Capability } from '../../spec/types.js';
import { AiError } from '../../errors/ai-error.js';

const configError = (message: string): AiError => new AiError('invalid_config', message, { retryable: false });
import type { CapabilityReport, SimulationReport } from './report.js';

export type Comparison = '<=' | '<' | '>=' | '>' | '==';

export interface Expectation {
  /** As written. */
  text: string;
  /** Capability, or undefined for a total. */
  capability?: Capability;
  metric: string;
  op: Comparison;
  value: number;
}

export interface ExpectationResult extends Expectation {
  actual: number;
  ok: boolean;
}

const CAPABILITY_METRICS: Record<string, (r: CapabilityReport) => number> = {
  p50: (r) => r.latency.p50,
  p95: (r) => r.latency.p95,
  p99: (r) => r.latency.p99,
  max: (r) => r.latency.max,
  successRate: (r) => r.successRate,
  attemptsPerCall: (r) => r.attemptsPerCall,
  fallbacks: (r) => r.fallbacks,
  hedges: (r) => r.hedges,
  breakerOpens: (r) => r.breakerOpens,
  budgetRefusals: (r) => r.budgetRefusals,
  costPerCall: (r) => r.costPerCallUsd,
  costPerCallUsd: (r) => r.costPerCallUsd,
  totalCostUsd: (r) => r.totalCostUsd,
};
for (const p of ['p50', 'p95', 'p99', 'max']) CAPABILITY_METRICS[`latency.${p}`] = CAPABILITY_METRICS[p]!;

const TOTAL_METRICS: Record<string, (r: SimulationReport) => number | undefined> = {
  successRate: (r) => r.successRate,
  costPerCall: (r) => r.costPerCallUsd,
  costPerCallUsd: (r) => r.costPerCallUsd,
  costPerLesson: (r) => r.costPerLessonUsd,
  costPerLessonUsd: (r) => r.costPerLessonUsd,
  totalCostUsd: (r) => r.totalCostUsd,
};

const FORM = /^\s*([A-Za-z][A-Za-z0-9_.]*)\s*(<=|>=|==|<|>)\s*(-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)\s*$/i;

/** Parses one expectation; throws invalid_config naming `field` (e.g. `expect[1]`) when it does not parse. */
export function parseExpectation(text: string, field = 'expect'): Expectation {
  const m = typeof text === 'string' ? FORM.exec(text) : null;
  if (!m) throw configError(`${field}: '${String(text)}' does not parse: expected <metric><op><number>, e.g. 'eval.p99<=7000' or 'costPerLesson<=0.02' (op one of <= < >= > ==)`);
  const [, path, op, num] = m as unknown as [string, string, Comparison, string];
  const dot = path.indexOf('.');
  const head = dot < 0 ? path : path.slice(0, dot);
  if ((CAPABILITIES as readonly string[]).includes(head)) {
    const metric = path.slice(dot + 1);
    if (dot < 0 || !(metric in CAPABILITY_METRICS)) throw configError(`${field}: '${text}': unknown metric '${metric}' for ${head} (known: ${Object.keys(CAPABILITY_METRICS).join(', ')})`);
    return { text, capability: head as Capability, metric, op, value: Number(num) };
  }
  if (!(path in TOTAL_METRICS)) throw configError(`${field}: '${text}': unknown metric '${path}' (known: ${Object.keys(TOTAL_METRICS).join(', ')}, or <stt|tts|eval>.<${Object.keys(CAPABILITY_METRICS).join('|')}>)`);
  return { text, metric: path, op, value: Number(num) };
}

function compare(actual: number, op: Comparison, value: number): boolean {
  switch (op) {
    case '<=':
      return actual <= value;
    case '<':
      return actual < value;
    case '>=':
      return actual >= value;
    case '>':
      return actual > value;
    case '==':
      return actual === value;
  }
}

/** Checks each expectation against the report; a metric the workload did not produce is invalid_config. */
export function checkExpectations(report: SimulationReport, expectations: readonly Expectation[]): ExpectationResult[] {
  return expectations.map((e, i) => {
    let actual: number | undefined;
    if (e.capability) {
      const r = report[e.capability];
      if (!r) throw configError(`expect[${i}]: '${e.text}': the workload made no ${e.capability} calls`);
      actual = CAPABILITY_METRICS[e.metric]!(r);
    } else {
      actual = TOTAL_METRICS[e.metric]!(report);
      if (actual === undefined) throw configError(`expect[${i}]: '${e.text}': needs a lessons workload (--lessons)`);
    }
    return { ...e, actual, ok: compare(actual, e.op, e.value) };
  });
}
