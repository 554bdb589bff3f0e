import net from 'node:net';

/**
 * A TCP proxy in front of the real Redis, to cut and restore the network path on demand:
 * `cut()` drops every open connection and refuses new ones (what a network partition or a
 * Redis restart looks like to a client), `restore()` lets connections through again.
 */
export interface TcpProxy {
  /** redis://127.0.0.1:<port> pointing at the proxy (with the target's path, e.g. /0). */
  url: string;
  port: number;
  cut(): void;
  restore(): void;
  /** Connections accepted so far. */
  accepted(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port || 6379);
  const targetHost = target.hostname;
  const open = new Set<net.Socket>();
  let down = false;
  let count = 0;
  const server = net.createServer((inbound) => {
    if (down) {
      inbound.destroy();
      return;
    }
    count++;
    const outbound = net.connect(targetPort, targetHost);
    open.add(inbound);
    open.add(outbound);
    const drop = () => {
      inbound.destroy();
      outbound.destroy();
      open.delete(inbound);
      open.delete(outbound);
    };
    inbound.on('error', drop).on('close', drop);
    outbound.on('error', drop).on('close', drop);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    port,
    cut() {
      down = true;
      for (const s of open) s.destroy();
      open.clear();
    },
    restore() {
      down = false;
    },
    accepted: () => count,
    close() {
      down = true;
      for (const s of open) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A local port with nothing listening on it (bound, then released). */
export async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
