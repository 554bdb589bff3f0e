// The TCP proxy the outage tests of every package stand on (test-support/tcp-proxy.ts): each
// mode does to a real connection what its doc says, checked against an echo server that counts
// what reaches it.
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { deadPort, TcpProxy } from '../../../test-support/tcp-proxy.js';

interface Echo {
  port: number;
  /** Connections that reached the server. */
  connections: number;
  /** Everything it received, in order. */
  received: string;
  close(): Promise<void>;
}

async function echoServer(): Promise<Echo> {
  const sockets = new Set<net.Socket>();
  const echo: Echo = { port: 0, connections: 0, received: '', close: () => Promise.resolve() };
  const server = net.createServer((s) => {
    echo.connections++;
    sockets.add(s);
    s.on('error', () => {});
    s.on('data', (d) => {
      echo.received += d.toString();
      s.write(d);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  echo.port = (server.address() as net.AddressInfo).port;
  echo.close = () => {
    for (const s of sockets) s.destroy();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return echo;
}

interface Client {
  socket: net.Socket;
  /** Resolves with the next data the client reads. */
  next(): Promise<string>;
  /** Resolves when the socket closes. */
  closed: Promise<void>;
}

function connect(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('error', reject);
    socket.once('connect', () => resolve({ socket, closed, next: () => new Promise((r) => socket.once('data', (d) => r(d.toString()))) }));
  });
}

function refusal(port: number): Promise<string | undefined> {
  return connect(port).then(
    (c) => {
      c.socket.destroy();
      return undefined;
    },
    (e: NodeJS.ErrnoException) => e.code,
  );
}

let echo: Echo;
let proxy: TcpProxy;
beforeEach(async () => {
  echo = await echoServer();
  proxy = TcpProxy.forUrl(`redis://127.0.0.1:${echo.port}/0`);
  await proxy.start();
});
afterEach(async () => {
  await proxy.close();
  await echo.close();
});

describe('TcpProxy', () => {
  it('forwards both ways, and urlFor points a URL at it (path kept)', async () => {
    expect(proxy.urlFor(`redis://127.0.0.1:${echo.port}/0`)).toBe(`redis://127.0.0.1:${proxy.port}/0`);
    const c = await connect(proxy.port);
    const reply = c.next();
    c.socket.write('ping');
    expect(await reply).toBe('ping');
    c.socket.destroy();
  });

  it("cut('refuse') closes open connections and refuses new ones; restore() listens again on the same port", async () => {
    const c = await connect(proxy.port);
    await proxy.cut('refuse');
    await c.closed;
    expect(await refusal(proxy.port)).toBe('ECONNREFUSED');
    await proxy.restore();
    const again = await connect(proxy.port);
    const reply = again.next();
    again.socket.write('back');
    expect(await reply).toBe('back');
    again.socket.destroy();
  });

  it("cut('blackhole') accepts new connections but never opens one to the server", async () => {
    await proxy.cut('blackhole');
    const c = await connect(proxy.port);
    c.socket.write('lost');
    await vi.waitFor(() => expect(proxy.accepted()).toBe(1));
    await proxy.restore();
    await c.closed;
    expect(echo.connections).toBe(0);
    expect(echo.received).toBe('');
  });

  it("cut('partition') keeps an open connection open but forwards nothing more either way", async () => {
    const c = await connect(proxy.port);
    const first = c.next();
    c.socket.write('a');
    expect(await first).toBe('a');
    let closedEarly = false;
    void c.closed.then(() => (closedEarly = true));
    await proxy.cut('partition');
    c.socket.write('b');
    expect(closedEarly).toBe(false);
    await proxy.restore();
    await c.closed;
    expect(echo.received).toBe('a');
  });

  it('deadPort() is a port nothing listens on', async () => {
    expect(await refusal(await deadPort())).toBe('ECONNREFUSED');
  });
});
