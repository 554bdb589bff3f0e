// The protocol between a multi-process test and its child processes, both sides in one place.
// A child runs a fixture file under `node --import tsx` from the repository root (so the
// workspace's tsconfig paths resolve @korean-together/*), with its arguments as one JSON
// document in argv[2]. It talks in JSON lines on stdout (`{"type":"ready"}`, `{"type":"result",
// ...}`; any other line is ignored) and reads lines on stdin (`go`). Stdin stays open for the
// child's whole life: when it closes, the test that started the child is gone, and the child
// exits instead of holding a reservation or a slot for good. A fixture therefore ends with
// `process.exit()`.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const RUNNING = Symbol.for('korean-together.test-children');

/** One line a child sends. */
export interface ChildMessage {
  type: string;
  [field: string]: unknown;
}

export interface StartChildOptions {
  /** Added to this process's environment. */
  env?: Record<string, string | undefined>;
  /** How long `waitFor` and `result` wait by default before they kill the child and reject (20 s). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 20_000;

/**
 * Children still running, killed when this process exits so none outlives a test worker. One
 * set per process: a test worker loads this module again for every test file.
 */
const running: Set<ChildProcess> = ((globalThis as { [RUNNING]?: Set<ChildProcess> })[RUNNING] ??= (() => {
  const set = new Set<ChildProcess>();
  process.once('exit', () => {
    for (const proc of set) proc.kill('SIGKILL');
  });
  return set;
})());

// ---- the test's side ----

/** A running fixture. */
export class TestChild {
  readonly proc: ChildProcess;
  readonly messages: ChildMessage[] = [];
  readonly stderr: string[] = [];
  /** The exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  private readonly name: string;
  private readonly timeoutMs: number;
  private readonly waiters: { type: string; resolve: (m: ChildMessage) => void }[] = [];

  constructor(fixture: string | URL, args: unknown, options: StartChildOptions = {}) {
    const path = fixture instanceof URL ? fileURLToPath(fixture) : fixture;
    this.name = path.slice(path.lastIndexOf('/') + 1);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.proc = spawn(process.execPath, ['--import', 'tsx', path, JSON.stringify(args ?? {})], {
      cwd: repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    running.add(this.proc);
    createInterface({ input: this.proc.stdout! }).on('line', (line) => this.receive(line));
    createInterface({ input: this.proc.stderr! }).on('line', (line) => this.stderr.push(line));
    // 'close', not 'exit': by then every line the child wrote has been read.
    this.exited = new Promise((resolve) =>
      this.proc.once('close', (code) => {
        running.delete(this.proc);
        resolve(code);
      }),
    );
  }

  private receive(line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof msg !== 'object' || msg === null || typeof (msg as ChildMessage).type !== 'string') return;
    this.messages.push(msg as ChildMessage);
    for (const w of this.waiters.filter((x) => x.type === (msg as ChildMessage).type)) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(msg as ChildMessage);
    }
  }

  /**
   * The first message of `type` (already received, or the next one). Rejects, with the end of
   * the child's stderr, when the child exits without sending it or `timeoutMs` passes first;
   * on a timeout the child is killed.
   */
  waitFor(type: string, timeoutMs = this.timeoutMs): Promise<ChildMessage> {
    const seen = this.messages.find((m) => m.type === type);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = { type, resolve: (m: ChildMessage) => (clearTimeout(timer), resolve(m)) };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        this.kill();
        reject(new Error(`${this.name} sent no '${type}' within ${timeoutMs} ms (killed): ${this.stderrTail()}`));
      }, timeoutMs);
      this.waiters.push(waiter);
      void this.exited.then((code) => {
        clearTimeout(timer);
        const got = this.messages.find((m) => m.type === type);
        if (got) resolve(got);
        else reject(new Error(`${this.name} exited (${code}) before sending '${type}': ${this.stderrTail()}`));
      });
    });
  }

  /** The child's `result` message once it has exited with code 0; rejects otherwise. */
  async result<T = ChildMessage>(timeoutMs = this.timeoutMs): Promise<T> {
    const msg = await this.waitFor('result', timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      this.exited,
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
    ]).finally(() => clearTimeout(timer));
    if (code === 'timeout') {
      this.kill();
      throw new Error(`${this.name} sent its result but did not exit within ${timeoutMs} ms (killed): ${this.stderrTail()}`);
    }
    if (code !== 0) throw new Error(`${this.name} sent its result, then exited with ${code}: ${this.stderrTail()}`);
    return msg as T;
  }

  /** Releases a child waiting in `waitForGo()`. */
  go(): void {
    this.proc.stdin!.write('go\n');
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
  }

  private stderrTail(): string {
    return this.stderr.slice(-20).join('\n');
  }
}

/** Starts one child running `fixture` (a path or a file URL) with `args`. */
export function startChild(fixture: string | URL, args: unknown, options?: StartChildOptions): TestChild {
  return new TestChild(fixture, args, options);
}

/**
 * Starts `n` children, waits until every one has sent `ready`, then releases them together
 * (`go`). When one fails to get ready, all are killed and the error is thrown.
 */
export async function startTogether(n: number, fixture: string | URL, argsFor: (i: number) => unknown, options?: StartChildOptions): Promise<TestChild[]> {
  const children = Array.from({ length: n }, (_, i) => new TestChild(fixture, argsFor(i), options));
  try {
    await Promise.all(children.map((c) => c.waitFor('ready')));
  } catch (e) {
    for (const c of children) c.kill();
    throw e;
  }
  for (const c of children) c.go();
  return children;
}

/** Every child's result (each exited with code 0); kills them all when one fails. */
export async function resultsOf<T>(children: TestChild[]): Promise<T[]> {
  try {
    return await Promise.all(children.map((c) => c.result<T>()));
  } finally {
    for (const c of children) c.kill();
  }
}

// ---- the fixture's side ----

let stdinLines: Interface | undefined;
let released = false;
const goWaiters: (() => void)[] = [];

function watchStdin(): void {
  if (stdinLines) return;
  stdinLines = createInterface({ input: process.stdin });
  stdinLines.on('line', (line) => {
    if (line.trim() !== 'go') return;
    released = true;
    for (const resolve of goWaiters.splice(0)) resolve();
  });
  // The test holds the other end: closed means it is gone.
  stdinLines.on('close', () => process.exit(1));
}

/** The fixture's arguments (argv[2]); also starts watching stdin for `go` and for the test going away. */
export function childArgs<T>(): T {
  watchStdin();
  return JSON.parse(process.argv[2] ?? '{}') as T;
}

/** Sends one message to the test. */
export function send(msg: ChildMessage): void {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
}

/** Resolves when the test sends `go` (at once if it already has). */
export function waitForGo(): Promise<void> {
  watchStdin();
  if (released) return Promise.resolve();
  return new Promise((resolve) => goWaiters.push(resolve));
}
