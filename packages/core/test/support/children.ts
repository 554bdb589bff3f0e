import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * A child process running a fixture under `node --import tsx`. Fixtures talk in JSON lines:
 * they print `{"type":"ready"}` when set up, wait for a line `go` on stdin, print their
 * results as `{"type":"result",...}`, and exit.
 */
export class Child {
  readonly proc: ChildProcess;
  readonly messages: Record<string, unknown>[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly waiters: { type: string; resolve: (m: Record<string, unknown>) => void }[] = [];

  constructor(fixture: string, args: unknown, env: Record<string, string | undefined> = {}) {
    const path = fileURLToPath(new URL(`../fixtures/${fixture}`, import.meta.url));
    this.proc = spawn(process.execPath, ['--import', 'tsx', path, JSON.stringify(args)], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      this.messages.push(msg);
      for (const w of [...this.waiters]) {
        if (w.type === msg.type) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(msg);
        }
      }
    });
    createInterface({ input: this.proc.stderr! }).on('line', (line) => this.stderr.push(line));
    this.exited = new Promise((resolve) => this.proc.on('exit', (code) => resolve(code)));
  }

  /** The first message of `type` (already received, or the next one). Rejects if the child exits first. */
  waitFor(type: string): Promise<Record<string, unknown>> {
    const seen = this.messages.find((m) => m.type === type);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.waiters.push({ type, resolve });
      void this.exited.then((code) => {
        const got = this.messages.find((m) => m.type === type);
        if (got) resolve(got);
        else reject(new Error(`child exited (${code}) before sending '${type}': ${this.stderr.slice(-20).join('\n')}`));
      });
    });
  }

  go(): void {
    this.proc.stdin!.write('go\n');
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.proc.kill(signal);
  }
}

/** Starts `n` children, waits until every one is ready, then releases them together. */
export async function startTogether(n: number, fixture: string, argsFor: (i: number) => unknown, env?: Record<string, string | undefined>): Promise<Child[]> {
  const children = Array.from({ length: n }, (_, i) => new Child(fixture, argsFor(i), env));
  try {
    await Promise.all(children.map((c) => c.waitFor('ready')));
  } catch (e) {
    for (const c of children) c.kill();
    throw e;
  }
  for (const c of children) c.go();
  return children;
}
