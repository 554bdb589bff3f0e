// What a simulation measured, per capability and overall, and the table it prints as.
import type { BreakerState } from '../../policy/circuit-breaker.js';
import { CAPABILITIES, type Capability } from '../../spec/types.js';

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface CapabilityReport {
  calls: number;
  /** Wait of every call, failed ones included (the learner waits for those too), virtual ms. */
  latency: LatencySummary;
  successRate: number;
  /** Provider attempts per call (breaker-skipped steps not counted). */
  attemptsPerCall: number;
  fallbacks: number;
  hedges: number;
  breakerOpens: number;
  budgetRefusals: number;
  /** Failed calls by error code. */
  errors: Record<string, number>;
  /** Every attempt's cost (failed ones that billed included), summed exactly in micro-dollars. */
  totalCostUsd: number;
  costPerCallUsd: number;
}

export interface BreakerChange {
  /** Virtual ms since the start. */
  atMs: number;
  /** 'capability:providerKey' */
  key: string;
  state: BreakerState;
}

export interface SimulationReport {
  stt?: CapabilityReport;
  tts?: CapabilityReport;
  eval?: CapabilityReport;
  seed: number;
  calls: number;
  /** Lessons run, for a `lessons` workload. */
  lessons?: number;
  successRate: number;
  totalCostUsd: number;
  costPerCallUsd: number;
  /** Total cost / lessons, for a `lessons` workload. */
  costPerLessonUsd?: number;
  /** Virtual time the whole workload took, ms. */
  simulatedMs: number;
  /** Every breaker state change, in order. */
  breakers: BreakerChange[];
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

const round = (n: number, digits = 1): number => Number(n.toFixed(digits));

export class CapabilityTally {
  calls = 0;
  successes = 0;
  attempts = 0;
  fallbacks = 0;
  hedges = 0;
  breakerOpens = 0;
  budgetRefusals = 0;
  costMicro = 0;
  errors: Record<string, number> = {};
  private latencies: number[] = [];

  recordCall(latencyMs: number, errorCode: string | undefined): void {
    this.calls++;
    this.latencies.push(latencyMs);
    if (errorCode === undefined) this.successes++;
    else this.errors[errorCode] = (this.errors[errorCode] ?? 0) + 1;
  }

  report(): CapabilityReport {
    const sorted = Float64Array.from(this.latencies).sort();
    const n = this.calls || 1;
    return {
      calls: this.calls,
      latency: { p50: round(percentile(sorted, 0.5)), p95: round(percentile(sorted, 0.95)), p99: round(percentile(sorted, 0.99)), max: round(sorted[sorted.length - 1] ?? 0) },
      successRate: this.successes / n,
      attemptsPerCall: this.attempts / n,
      fallbacks: this.fallbacks,
      hedges: this.hedges,
      breakerOpens: this.breakerOpens,
      budgetRefusals: this.budgetRefusals,
      errors: this.errors,
      totalCostUsd: this.costMicro / 1e6,
      costPerCallUsd: this.costMicro / n / 1e6,
    };
  }
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
const usd = (x: number): string => `$${x.toFixed(6)}`;

/** Rows of the table: one per capability that ran, then the totals. */
export function reportRows(report: SimulationReport): string[][] {
  const rows: string[][] = [];
  for (const c of CAPABILITIES) {
    const r = report[c];
    if (!r) continue;
    rows.push([c, String(r.calls), String(r.latency.p50), String(r.latency.p95), String(r.latency.p99), String(r.latency.max), pct(r.successRate), r.attemptsPerCall.toFixed(3), String(r.fallbacks), String(r.hedges), String(r.breakerOpens), String(r.budgetRefusals), usd(r.costPerCallUsd)]);
  }
  return rows;
}

export const REPORT_COLUMNS = ['capability', 'calls', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'success', 'attempts/call', 'fallbacks', 'hedges', 'breaker opens', 'budget refusals', 'cost/call'];

function table(columns: string[], rows: string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The report as a plain-text table, then the totals and the breaker changes. */
export function formatSimulationReport(report: SimulationReport): string {
  const lines = [table(REPORT_COLUMNS, reportRows(report)), ''];
  lines.push(`seed ${report.seed}: ${report.calls} calls${report.lessons ? ` in ${report.lessons} lessons` : ''} over ${(report.simulatedMs / 1000).toFixed(1)} s of virtual time; success ${pct(report.successRate)}; cost ${usd(report.totalCostUsd)} total, ${usd(report.costPerCallUsd)} per call${report.costPerLessonUsd !== undefined ? `, ${usd(report.costPerLessonUsd)} per lesson` : ''}`);
  const opened = report.breakers.filter((b) => b.state === 'open').length;
  lines.push(opened ? `breakers: ${report.breakers.map((b) => `${b.key} ${b.state} at ${(b.atMs / 1000).toFixed(1)} s`).slice(0, 20).join(', ')}${report.breakers.length > 20 ? `, ... (${report.breakers.length} changes)` : ''}` : 'breakers: none opened');
  return lines.join('\n');
}

export type { Capability };
