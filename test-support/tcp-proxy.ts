import net from 'node:net';

const DEFAULT_PORTS: Record<string, number> = { 'postgres:': 5432, 'postgresql:': 5432, 'redis:': 6379, 'rediss:': 6379 };

/**
 * A TCP proxy a test controls, to make a real server unreachable on demand.
 * - `cut('refuse')`: kill every open connection and refuse new ones (server down).
 * - `cut('blackhole')`: kill every open connection and accept new ones without ever answering
 *   (a network partition: the client waits for its own timeouts).
 * - `cut('partition')`: like 'blackhole', but open connections stay open and silently stop
 *   forwarding in both directions (packets dropped, no reset): a client waiting on a connection
 *   it already holds gets no error at all, only its own timeouts.
 * - `restore()`: forward again (connections stalled by 'blackhole' or 'partition' are closed).
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private mode: 'forward' | 'refuse' | 'blackhole' | 'partition' = 'forward';
  /** Forwarding pairs, so 'partition' can stall them without closing either side. */
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  private acceptedCount = 0;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** A proxy in front of the server `url` names (postgres:// or redis://; its default port when none is given). */
  static forUrl(url: string): TcpProxy {
    const u = new URL(url);
    return new TcpProxy(u.hostname || '127.0.0.1', Number(u.port || DEFAULT_PORTS[u.protocol] || 5432));
  }

  /** `url` with host and port replaced by the proxy's. */
  urlFor(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  async start(port = 0): Promise<void> {
    await this.listen(port);
  }

  private listen(port: number): Promise<void> {
    const server = net.createServer((client) => this.accept(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        this.port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  /** Connections the proxy has taken so far, in any mode: a test can wait until its client's has arrived. */
  accepted(): number {
    return this.acceptedCount;
  }

  private accept(client: net.Socket): void {
    this.acceptedCount++;
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => {});
    // Accepted before the listener closed: refused all the same.
    if (this.mode === 'refuse') {
      client.destroy();
      return;
    }
    if (this.mode === 'blackhole' || this.mode === 'partition') return;
    const upstream = net.connect(this.targetPort, this.targetHost);
    this.sockets.add(upstream);
    const pair = { client, upstream };
    this.pairs.add(pair);
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      this.pairs.delete(pair);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }

  async cut(mode: 'refuse' | 'blackhole' | 'partition' = 'refuse'): Promise<void> {
    this.mode = mode;
    if (mode === 'partition') {
      // Stop both directions and read nothing more: bytes sent either way go unanswered.
      for (const { client, upstream } of this.pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
      return;
    }
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (mode === 'refuse' && this.server) {
      const s = this.server;
      this.server = undefined;
      await new Promise<void>((r) => s.close(() => r()));
    }
  }

  async restore(): Promise<void> {
    if (this.mode === 'blackhole' || this.mode === 'partition') {
      for (const s of this.sockets) s.destroy();
      this.sockets.clear();
      this.pairs.clear();
    }
    this.mode = 'forward';
    if (!this.server) await this.listen(this.port);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

/** A local port with nothing listening on it (bound, then released): a server that is down from the start. */
export async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
