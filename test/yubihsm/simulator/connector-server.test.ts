import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpTransport } from '../../../lib/yubihsm/transports/http.ts';
import { ConnectorServer, type SimulatedYubiHsm } from '../../../lib/yubihsm/simulator/index.ts';
import { CMD, device, frame, parse } from './raw-host.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw HTTP exchange, so that the test controls method, path, headers and framing. */
function raw(url: string, method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // A body goes with its Content-Length, as libyubihsm (curl) sends it, unless the test asks for chunks.
    const all = body && !headers['Transfer-Encoding'] ? { 'Content-Length': String(body.length), ...headers } : headers;
    const req = httpRequest(`${url}${path}`, { method, headers: all }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

let server: ConnectorServer | undefined;
let dev: SimulatedYubiHsm;

async function start(): Promise<string> {
  dev = await device();
  server = await ConnectorServer.start(dev);
  return server.url;
}

afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('connector HTTP server', () => {
  it('serves the status page as yubihsm-connector does', async () => {
    const url = await start();
    const r = await raw(url, 'GET', '/connector/status');
    expect(r.status).toBe(200);
    const lines = r.body.toString().trimEnd().split('\n');
    expect(lines).toEqual([
      'status=OK',
      'serial=0007550054',
      expect.stringMatching(/^version=\d+\.\d+\.\d+$/),
      `pid=${process.pid}`,
      'address=127.0.0.1',
      `port=${server!.port}`,
    ]);
    expect(r.headers['x-request-id']).toBeTruthy();
    // libyubihsm's HTTP backend reads the status page into a 257-byte buffer and fails on more.
    expect(r.body.length).toBeLessThan(257);
  });

  it('reports NO_DEVICE when the simulated device is unplugged', async () => {
    const url = await start();
    dev.faults.dropAfter = 0;
    expect((await raw(url, 'POST', '/connector/api', Buffer.from(frame(CMD.echo, [1])))).status).toBe(500);
    expect((await raw(url, 'GET', '/connector/status')).body.toString()).toMatch(/^status=NO_DEVICE\n/);
  });

  it('carries one frame each way over POST /connector/api', async () => {
    const url = await start();
    const r = await raw(url, 'POST', '/connector/api', Buffer.from(frame(CMD.echo, [1, 2, 3])), {
      'Content-Type': 'application/octet-stream',
    });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/octet-stream');
    expect([...r.body]).toEqual([0x81, 0, 3, 1, 2, 3]);
  });

  it('passes device errors through as frames with status 200', async () => {
    const url = await start();
    const r = await raw(url, 'POST', '/connector/api', Buffer.from([0x01, 0x00, 0x05, 0x00]));
    expect(r.status).toBe(200);
    expect([...r.body]).toEqual([0x7f, 0, 1, 0x08]);
  });

  it('answers a wrong method with 405 and Allow, as the connector does', async () => {
    const url = await start();
    const a = await raw(url, 'GET', '/connector/api');
    expect([a.status, a.headers.allow, a.body.toString()]).toEqual([405, 'POST', 'Method Not Allowed\n']);
    const s = await raw(url, 'POST', '/connector/status', Buffer.from('x'));
    expect([s.status, s.headers.allow]).toEqual([405, 'GET']);
  });

  it('answers 404 for other paths', async () => {
    const url = await start();
    for (const path of ['/', '/connector', '/connector/api/', '/connector/statusx']) {
      const r = await raw(url, 'GET', path);
      expect([r.status, r.body.toString()]).toEqual([404, '404 page not found\n']);
    }
  });

  it('refuses bodies under 3 bytes, over 2048 + 3, or without a length, with 400', async () => {
    const url = await start();
    expect((await raw(url, 'POST', '/connector/api', Buffer.from([1, 0])).then((r) => r.status))).toBe(400);
    expect((await raw(url, 'POST', '/connector/api', Buffer.alloc(2052)).then((r) => r.status))).toBe(400);
    expect((await raw(url, 'POST', '/connector/api', Buffer.from([1, 0, 0]), { 'Transfer-Encoding': 'chunked' })).status).toBe(400);
    // 2049..2051 bytes reach the device, which answers WRONG LENGTH in a frame.
    const r = await raw(url, 'POST', '/connector/api', Buffer.from(frame(CMD.echo, new Uint8Array(2046))));
    expect([r.status, ...r.body]).toEqual([200, 0x7f, 0, 1, 0x08]);
  });

  it('assembles a request body however the TCP stream is cut', async () => {
    const url = await start();
    const body = Buffer.from(frame(CMD.echo, [10, 20, 30, 40]));
    const head = Buffer.from(`POST /connector/api HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
    for (let cut = 1; cut < body.length; cut++) {
      const reply = await new Promise<Buffer>((resolve, reject) => {
        const socket = connect(server!.port, '127.0.0.1');
        const parts: Buffer[] = [];
        socket.on('data', (c: Buffer) => parts.push(c));
        socket.on('end', () => resolve(Buffer.concat(parts)));
        socket.on('error', reject);
        socket.write(Buffer.concat([head, body.subarray(0, cut)]));
        setTimeout(() => socket.write(body.subarray(cut)), 5);
      });
      expect(reply.toString('latin1')).toMatch(/^HTTP\/1\.1 200 /);
      expect([...reply.subarray(reply.length - 7)]).toEqual([0x81, 0, 4, 10, 20, 30, 40]);
    }
    expect(url).toContain('127.0.0.1');
  });

  it('listens on loopback only', async () => {
    const d = await device();
    await expect(ConnectorServer.start(d, { host: '0.0.0.0' })).toThrowWithCode('SIMULATOR_SERVER_FAILED');
    await expect(ConnectorServer.start(d, { host: '::' })).toThrowWithCode('SIMULATOR_SERVER_FAILED');
    await start();
    // Not reachable through this machine's other addresses (where it has any).
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((i) => i !== undefined && i.family === 'IPv4' && !i.internal)
      .map((i) => i!.address);
    for (const address of others) {
      const refused = await new Promise<boolean>((resolve) => {
        const socket = connect(server!.port, address);
        socket.on('connect', () => {
          socket.destroy();
          resolve(false);
        });
        socket.on('error', () => resolve(true));
      });
      expect(refused).toBe(true);
    }
  });

  it('refuses a request whose Host is not a loopback name (DNS rebinding from a browser)', async () => {
    const url = await start();
    const ask = (host: string) => raw(url, 'POST', '/connector/api', Buffer.from(frame(CMD.echo, [1])), { Host: host }).then((r) => r.status);
    expect(await ask('attacker.example')).toBe(403);
    expect(await ask(`attacker.example:${server!.port}`)).toBe(403);
    expect(await ask(`127.0.0.1.attacker.example:${server!.port}`)).toBe(403);
    expect(await raw(url, 'GET', '/connector/status', undefined, { Host: 'attacker.example' }).then((r) => r.status)).toBe(403);
    expect(await ask(`localhost:${server!.port}`)).toBe(200);
    expect(await ask(`127.0.0.1:${server!.port}`)).toBe(200);
    expect(await ask(`[::1]:${server!.port}`)).toBe(200);
  });

  it('fails typed when the port is taken', async () => {
    await start();
    await expect(ConnectorServer.start(dev, { port: server!.port })).toThrowWithCode('SIMULATOR_SERVER_FAILED');
  });

  it('works with the project’s HTTP transport', async () => {
    const url = await start();
    const t = new HttpTransport(url);
    expect((await t.requireReady()).serial).toBe('0007550054');
    expect(parse(await t.send(frame(CMD.deviceInfo))).code).toBe(0x86);
  });
});
