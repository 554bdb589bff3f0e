// A call someone awaits keeps its process alive: a script whose only pending work is a call
// in its retry backoff (or an attempt waiting on a provider that holds no socket) must finish
// the call, write its rows and exit 0, not die with Node's "unsettled top-level await" (13).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const script = fileURLToPath(new URL('./fixtures/top-level-await.mjs', import.meta.url));

function runScript(mode: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', 'tsx', script, mode], { cwd: repoRoot, timeout: 20_000 }, (_err, stdout, stderr) =>
      resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

describe('a top-level await on a call', () => {
  it('survives the retry backoff: exit 0, the result printed, both usage rows written', async () => {
    const { code, stdout, stderr } = await runScript('retry');
    expect(stderr).not.toMatch(/unsettled top-level await/i);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      outcome: { ok: true, score: 90, attempts: 2 },
      rows: [
        { attempt: 1, success: false, errorCode: 'unavailable' },
        { attempt: 2, success: true, errorCode: null },
      ],
    });
  });

  it('survives attempts that wait on a provider holding no socket: the call ends with its timeouts and rows', async () => {
    const { code, stdout, stderr } = await runScript('hang');
    expect(stderr).not.toMatch(/unsettled top-level await/i);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      outcome: { ok: false, code: 'exhausted', attempts: 2 },
      rows: [
        { attempt: 1, success: false, errorCode: 'timeout' },
        { attempt: 2, success: false, errorCode: 'timeout' },
      ],
    });
  });
});
