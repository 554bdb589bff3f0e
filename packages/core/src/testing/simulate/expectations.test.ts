import { describe, expect, it } from 'vitest';
import { isAiError } from '../../errors/ai-error.js';
import { checkExpectations, parseExpectation } from './expectations.js';
import type { SimulationReport } from './report.js';

const report: SimulationReport = {
  seed: 1, calls: 10, lessons: 2, successRate: 0.9, totalCostUsd: 0.04, costPerCallUsd: 0.004, costPerLessonUsd: 0.02, simulatedMs: 1000, breakers: [],
  eval: { calls: 10, latency: { p50: 900, p95: 2000, p99: 7000, max: 8000 }, successRate: 0.9, attemptsPerCall: 1.2, fallbacks: 1, hedges: 0, breakerOpens: 0, budgetRefusals: 0, errors: { timeout: 1 }, totalCostUsd: 0.04, costPerCallUsd: 0.004 },
};

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(isAiError(e) && e.code).toBe('invalid_config');
    return (e as Error).message;
  }
  throw new Error('expected invalid_config');
}

describe('expectations', () => {
  it('parses and checks capability metrics and totals', () => {
    const results = checkExpectations(report, ['eval.p99<=7000', 'eval.latency.p95 < 2000', 'costPerLesson<=0.02', 'eval.successRate>=0.95', 'successRate == 0.9'].map((t) => parseExpectation(t)));
    expect(results.map((r) => [r.text, r.actual, r.ok])).toEqual([
      ['eval.p99<=7000', 7000, true],
      ['eval.latency.p95 < 2000', 2000, false],
      ['costPerLesson<=0.02', 0.02, true],
      ['eval.successRate>=0.95', 0.9, false],
      ['successRate == 0.9', 0.9, true],
    ]);
  });

  it('an expectation that does not parse, or names an unknown metric, is invalid_config naming it', () => {
    expect(message(() => parseExpectation('eval.p99=<7000', 'expect[2]'))).toMatch(/expect\[2\]: 'eval\.p99=<7000' does not parse/);
    expect(message(() => parseExpectation('eval.p98<=1'))).toMatch(/unknown metric 'p98' for eval/);
    expect(message(() => parseExpectation('costPerYear<=1'))).toMatch(/unknown metric 'costPerYear'/);
    expect(message(() => parseExpectation('eval.p99<=abc'))).toMatch(/does not parse/);
    expect(message(() => checkExpectations(report, [parseExpectation('stt.p99<=1')]))).toMatch(/expect\[0\]: 'stt\.p99<=1': the workload made no stt calls/);
    expect(message(() => checkExpectations({ ...report, costPerLessonUsd: undefined }, [parseExpectation('costPerLesson<=1')]))).toMatch(/needs a lessons workload/);
  });
});
