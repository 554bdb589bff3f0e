// korean-together-policy: simulate a policy against a fault profile and gate CI on the report.
//   simulate --policy ai-policy.json --profile faults.json --calls 100000 --expect 'eval.p99<=7000'
//   diff old.json new.json --profile faults.json
// Exit codes: 0 every expectation held, 1 one failed, 2 bad input (the message names it),
// 3 an internal error (a crash, or the simulation stalled): not the input's fault.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AiError, isAiError } from '../errors/ai-error.js';
import { defaultPolicy, loadPolicy, type AiPolicy } from '../policy/ai-policy.js';
import { CAPABILITIES } from '../spec/types.js';
import { checkExpectations, parseExpectation } from '../testing/simulate/expectations.js';
import type { ProviderProfiles } from '../testing/simulate/profile.js';
import { formatSimulationReport, type SimulationReport } from '../testing/simulate/report.js';
import { simulatePolicy } from '../testing/simulate/simulate-policy.js';
import type { Workload } from '../testing/simulate/workload.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const USAGE = `usage:
  korean-together-policy simulate [--policy ai-policy.json] --profile faults.json (--calls N | --lessons N)
                                  [--concurrency N] [--seed N] [--expect 'eval.p99<=7000']... [--json]
  korean-together-policy diff old-policy.json new-policy.json --profile faults.json [--calls N | --lessons N] [--seed N]

The profile file is { "profiles": { <provider key>: { latency, faults? } }, "workload"?: { ... } }
(or the profiles object alone); --calls / --lessons / --concurrency override its workload.
Exit: 0 ok (or --help), 1 an expectation failed, 2 bad input, 3 internal error (a crash, a stalled simulation).`;

const bad = (message: string): AiError => new AiError('invalid_config', message, { retryable: false });

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw bad(`${what} ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw bad(`${what} ${path}: not JSON (${(e as Error).message})`);
  }
}

function loadProfile(path: string | undefined): { profiles: ProviderProfiles; workload?: Record<string, unknown> } {
  if (!path) throw bad('--profile: required (a JSON file of provider profiles)');
  const json = readJson(path, '--profile');
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw bad(`--profile ${path}: must be a JSON object`);
  const o = json as Record<string, unknown>;
  if (o.profiles && typeof o.profiles === 'object') return { profiles: o.profiles as ProviderProfiles, workload: o.workload as Record<string, unknown> | undefined };
  return { profiles: o as ProviderProfiles };
}

function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw bad(`--${name}: must be an integer (got '${value}')`);
  return Number(value);
}

function workloadFrom(values: { calls?: string; lessons?: string; concurrency?: string }, fromFile: Record<string, unknown> | undefined): Workload {
  const calls = integer('calls', values.calls);
  const lessons = integer('lessons', values.lessons);
  const concurrency = integer('concurrency', values.concurrency);
  if (calls !== undefined && lessons !== undefined) throw bad('--calls, --lessons: give one of them');
  const w: Record<string, unknown> = { ...(fromFile ?? {}) };
  if (calls !== undefined) {
    delete w.lessons;
    w.calls = calls;
  }
  if (lessons !== undefined) {
    delete w.calls;
    w.lessons = lessons;
  }
  if (concurrency !== undefined) w.concurrency = concurrency;
  if (w.calls === undefined && w.lessons === undefined) throw bad('--calls or --lessons: required (or a workload in the profile file)');
  return w as Workload;
}

const policyFrom = (path: string | undefined): AiPolicy => (path ? loadPolicy(path) : defaultPolicy);

const OPTIONS = {
  policy: { type: 'string' },
  profile: { type: 'string' },
  calls: { type: 'string' },
  lessons: { type: 'string' },
  concurrency: { type: 'string' },
  seed: { type: 'string' },
  expect: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function help(io: Io): number {
  io.out(USAGE);
  return 0;
}

/** Exit code of a failure: 2 for bad input (invalid_config, a flag parseArgs refuses), 3 for anything else. */
export function exitCodeFor(error: unknown): 2 | 3 {
  if (isAiError(error)) return error.code === 'invalid_config' ? 2 : 3;
  return (error as { code?: unknown } | null)?.code?.toString().startsWith('ERR_PARSE_ARGS') ? 2 : 3;
}

async function simulate(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return help(io);
  if (positionals.length) throw bad(`simulate: unexpected argument '${positionals[0]}'`);
  // Expectations first: a typo fails before a long simulation.
  const expectations = (values.expect ?? []).map((t, i) => parseExpectation(t, `--expect[${i}]`));
  const { profiles, workload } = loadProfile(values.profile);
  const report = await simulatePolicy({ policy: policyFrom(values.policy), profiles, workload: workloadFrom(values, workload), seed: integer('seed', values.seed) ?? 1 });
  const results = checkExpectations(report, expectations);
  if (values.json) io.out(JSON.stringify({ report, expectations: results }, null, 2));
  else {
    io.out(formatSimulationReport(report));
    for (const r of results) io.out(`${r.ok ? 'PASS' : 'FAIL'}  ${r.text}  (actual ${r.actual})`);
  }
  return results.every((r) => r.ok) ? 0 : 1;
}

function diffRows(a: SimulationReport, b: SimulationReport): string[][] {
  const rows: string[][] = [];
  const fmt = (n: number | undefined) => (n === undefined ? '-' : Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(6))));
  const add = (metric: string, x: number | undefined, y: number | undefined) => {
    const change = x === undefined || y === undefined ? '' : x === y ? 'same' : x === 0 ? `${y > x ? '+' : ''}${fmt(y - x)}` : `${y > x ? '+' : ''}${(((y - x) / Math.abs(x)) * 100).toFixed(1)}%`;
    rows.push([metric, fmt(x), fmt(y), change]);
  };
  for (const c of CAPABILITIES) {
    const x = a[c];
    const y = b[c];
    if (!x && !y) continue;
    for (const p of ['p50', 'p95', 'p99', 'max'] as const) add(`${c}.${p} ms`, x?.latency[p], y?.latency[p]);
    for (const m of ['successRate', 'attemptsPerCall', 'fallbacks', 'hedges', 'breakerOpens', 'budgetRefusals', 'costPerCallUsd'] as const) add(`${c}.${m}`, x?.[m], y?.[m]);
  }
  add('successRate', a.successRate, b.successRate);
  add('costPerCallUsd', a.costPerCallUsd, b.costPerCallUsd);
  if (a.costPerLessonUsd !== undefined) add('costPerLessonUsd', a.costPerLessonUsd, b.costPerLessonUsd);
  return rows;
}

async function diff(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return help(io);
  if (positionals.length !== 2) throw bad('diff: needs two policy files: diff old.json new.json --profile faults.json');
  const { profiles, workload } = loadProfile(values.profile);
  const w = workloadFrom(values, workload);
  const seed = integer('seed', values.seed) ?? 1;
  const [before, after] = [await simulatePolicy({ policy: loadPolicy(positionals[0]!), profiles, workload: w, seed }), await simulatePolicy({ policy: loadPolicy(positionals[1]!), profiles, workload: w, seed })];
  if (values.json) {
    io.out(JSON.stringify({ old: before, new: after }, null, 2));
    return 0;
  }
  const rows = diffRows(before, after);
  const columns = ['metric', positionals[0]!, positionals[1]!, 'change'];
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  io.out([`seed ${seed}, same draws for both policies`, line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n'));
  return 0;
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: string[], io: Io = { out: (t) => console.log(t), err: (t) => console.error(t) }): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'simulate') return await simulate(rest, io);
    if (command === 'diff') return await diff(rest, io);
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      io.out(USAGE);
      return command === undefined ? 2 : 0;
    }
    throw bad(`unknown command '${command}' (simulate or diff)`);
  } catch (e) {
    const code = exitCodeFor(e);
    if (code === 2) io.err(isAiError(e) ? `korean-together-policy: ${e.code}: ${e.message}` : `korean-together-policy: invalid_config: ${(e as Error).message}\n${USAGE}`);
    else io.err(`korean-together-policy: internal error (exit 3): ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    return code;
  }
}
