// The CLI as a host's CI runs it: a child process, files on disk, the exit code.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AiError } from '../errors/ai-error.js';
import { SimulationStalledError } from '../testing/simulate/simulate-policy.js';
import { exitCodeFor, main } from './policy-cli-main.js';

const CLI = fileURLToPath(new URL('./policy-cli.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'policy-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', CLI, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const chain = (extra: Record<string, unknown> = {}) => ({ capabilities: { eval: { chain: ['flash', 'lite'], attemptTimeoutMs: 3000, deadlineMs: 8000, retry: { maxAttempts: 1 }, ...extra } } });
const policy = file('ai-policy.json', chain());
const hedged = file('hedged.json', chain({ hedgeAfterMs: 1500 }));
const profile = file('faults.json', {
  profiles: {
    flash: { latency: { kind: 'lognormal', medianMs: 1000, sigma: 0.3 }, faults: [{ kind: 'hang', probability: 0.05 }] },
    lite: { latency: { kind: 'fixed', ms: 500 }, modelId: 'gemini-2.5-flash-lite' },
  },
  workload: { concurrency: 20 },
});

describe('korean-together-policy', () => {
  it('simulate prints the report and exits 0 when every expectation holds, 1 when one fails', async () => {
    const pass = await run(['simulate', '--policy', policy, '--profile', profile, '--calls', '2000', '--expect', 'eval.p99<=4000', '--expect', 'eval.successRate>=0.99']);
    expect(pass.stderr).toBe('');
    expect(pass.code).toBe(0);
    expect(pass.stdout).toMatch(/capability\s+calls\s+p50 ms/);
    expect(pass.stdout).toMatch(/^eval\s+2000\s/m);
    expect(pass.stdout).toContain('PASS  eval.p99<=4000');

    // A hang waits out the 3 s attempt timeout, then lite's 500 ms: p99 is 3.5 s, over 2 s.
    const fail = await run(['simulate', '--policy', policy, '--profile', profile, '--calls', '2000', '--expect', 'eval.p99<=2000', '--expect', 'eval.p50<=2000']);
    expect(fail.code).toBe(1);
    expect(fail.stdout).toMatch(/FAIL  eval\.p99<=2000  \(actual 3500(\.\d+)?\)/);
    expect(fail.stdout).toContain('PASS  eval.p50<=2000');
  });

  it('--json prints the report as data; the same seed gives the same report', async () => {
    const a = await run(['simulate', '--policy', policy, '--profile', profile, '--lessons', '100', '--seed', '5', '--json', '--expect', 'costPerLesson<=0.01']);
    const b = await run(['simulate', '--policy', policy, '--profile', profile, '--lessons', '100', '--seed', '5', '--json']);
    expect(a.code).toBe(0);
    const ra = JSON.parse(a.stdout);
    expect(ra.report.lessons).toBe(100);
    expect(ra.expectations[0]).toMatchObject({ text: 'costPerLesson<=0.01', ok: true });
    expect(JSON.parse(b.stdout).report).toEqual(ra.report);
  });

  it('diff runs both policies on the same seed and shows what changed', async () => {
    const out = await run(['diff', policy, hedged, '--profile', profile, '--calls', '2000']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/eval\.p99 ms\s+3500(\.\d+)?\s+2000(\.\d+)?\s+-42\.9%/);
    expect(out.stdout).toMatch(/eval\.hedges\s+0\s+\d+\s+\+\d+/);
  });

  it('bad input exits 2 with invalid_config naming the field', async () => {
    const cases: [string[], RegExp][] = [
      [['simulate', '--policy', policy, '--profile', profile, '--calls', '10', '--expect', 'eval.p99=<7000'], /invalid_config: --expect\[0\]: 'eval\.p99=<7000' does not parse/],
      [['simulate', '--policy', policy, '--profile', file('unknown.json', { flash: { latency: { kind: 'fixed', ms: 1 } }, lite: { latency: { kind: 'fixed', ms: 1 } }, pro: { latency: { kind: 'fixed', ms: 1 } } }), '--calls', '10'], /profiles\.pro: unknown provider key/],
      [['simulate', '--policy', policy, '--profile', file('neg.json', { flash: { latency: { kind: 'fixed', ms: 1 }, faults: [{ kind: 'hang', probability: -1 }] }, lite: { latency: { kind: 'fixed', ms: 1 } } }), '--calls', '10'], /profiles\.flash\.faults\.0\.probability: must be >= 0/],
      [['simulate', '--policy', policy, '--profile', profile], /--calls or --lessons: required/],
      [['simulate', '--policy', policy, '--profile', profile, '--calls', 'many'], /--calls: must be an integer/],
      [['simulate', '--policy', file('bad-policy.json', '{"capabilities": {"eval": {"deadlineMs": -1}}}'), '--profile', profile, '--calls', '10'], /capabilities\.eval\.deadlineMs/],
      [['simulate', '--profile', file('broken.json', '{ not json'), '--calls', '10'], /--profile .*broken\.json: not JSON/],
      [['simulate', '--policy', policy, '--profile', profile, '--calls', '10', '--frobnicate'], /invalid_config: .*frobnicate/],
      [['explain'], /unknown command 'explain'/],
    ];
    for (const [args, message] of cases) {
      const out = await run(args);
      expect(out.code, args.join(' ')).toBe(2);
      expect(out.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('--help / -h print the usage and exit 0, for both commands', async () => {
    for (const args of [['--help'], ['-h'], ['simulate', '--help'], ['simulate', '-h'], ['diff', '--help'], ['diff', '-h']]) {
      const out = await run(args);
      expect(out.code, args.join(' ')).toBe(0);
      expect(out.stdout, args.join(' ')).toMatch(/^usage:\n {2}korean-together-policy simulate/);
      expect(out.stderr, args.join(' ')).toBe('');
    }
  });

  it('internal errors and a stalled simulation exit 3, not the 2 of bad input', async () => {
    expect(exitCodeFor(new SimulationStalledError('stalled'))).toBe(3);
    expect(exitCodeFor(new TypeError('x is undefined'))).toBe(3);
    expect(exitCodeFor(new AiError('unavailable', 'x', { retryable: true }))).toBe(3);
    expect(exitCodeFor(new AiError('invalid_config', 'x', { retryable: false }))).toBe(2);
    expect(exitCodeFor(Object.assign(new TypeError('bad flag'), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' }))).toBe(2);
    // main() itself: a crash after a good simulation (here: printing the report throws) exits 3.
    const errs: string[] = [];
    const io = {
      out: () => {
        throw new TypeError('stdout is gone');
      },
      err: (t: string) => void errs.push(t),
    };
    expect(await main(['simulate', '--policy', policy, '--profile', profile, '--calls', '10'], io)).toBe(3);
    expect(errs).toEqual(['korean-together-policy: internal error (exit 3): TypeError: stdout is gone']);
  });
});
