// The connector HTTP transport against a small server written here, which
// controls exactly how each response body is cut into chunks.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { YubiHsmError } from '../../lib/yubihsm/errors.ts';
import { HttpTransport, parseConnectorStatus } from '../../lib/yubihsm/transports/http.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;
let handler: Handler = (_req, _body, res) => res.end();
let server: Server;
let url: string;
const seen: { method: string; path: string; contentType: string | undefined; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      seen.push({ method: req.method ?? '', path: req.url ?? '', contentType: req.headers['content-type'], body: body.toString('hex') });
      handler(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Writes `bytes` as a chunked body, one write per piece, waiting between writes so they arrive apart. */
async function writeChunks(res: ServerResponse, pieces: Uint8Array[]): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
  for (const p of pieces) {
    res.write(p);
    await new Promise((r) => setImmediate(r));
  }
  res.end();
}

describe('connector status', () => {
  it('parses the connector status page', () => {
    const st = parseConnectorStatus('status=OK\nserial=0007550054\nversion=3.0.4\npid=4242\naddress=localhost\nport=12345\n');
    expect(st).toEqual({ status: 'OK', serial: '0007550054', version: '3.0.4', pid: 4242, address: 'localhost', port: 12345 });
    expect(parseConnectorStatus('status=NO_DEVICE\r\nserial=*\r\n').serial).toBeUndefined();
  });

  it('refuses a page without status, with a repeated key, or with a line that is not key=value', () => {
    expect(() => parseConnectorStatus('serial=1\n')).toThrowWithCode('YUBIHSM_CONNECTOR_NOT_READY');
    expect(() => parseConnectorStatus('status=OK\nstatus=OK\n')).toThrowWithCode('YUBIHSM_CONNECTOR_NOT_READY');
    expect(() => parseConnectorStatus('status=OK\n<html>\n')).toThrowWithCode('YUBIHSM_CONNECTOR_NOT_READY');
  });

  it('GETs /connector/status and requires status=OK', async () => {
    handler = (_req, _body, res) => res.end('status=OK\nserial=*\nversion=3.0.4\npid=1\naddress=127.0.0.1\nport=1\n');
    const t = new HttpTransport(url);
    expect((await t.requireReady()).status).toBe('OK');
    expect(seen.at(-1)).toMatchObject({ method: 'GET', path: '/connector/status' });
    handler = (_req, _body, res) => res.end('status=NO_DEVICE\nserial=*\n');
    await expect(t.requireReady()).toThrowWithCode('YUBIHSM_CONNECTOR_NOT_READY');
  });

  it('keeps what a hostile connector sends out of the terminal: no control characters in messages, digits-only serial', async () => {
    const esc = '\u001b[2J\u001b]0;pwned\u0007\u009b31m';
    expect(() => parseConnectorStatus(`status=OK\nserial=${esc}\n`)).toThrowWithCode('YUBIHSM_CONNECTOR_NOT_READY');
    expect(() => parseConnectorStatus('status=OK\nserial=12ab\n')).toThrowWithCode('YUBIHSM_CONNECTOR_NOT_READY');
    const failures: unknown[] = [];
    handler = (_req, _body, res) => res.end(`status=${esc}\nserial=*\n`);
    await new HttpTransport(url).requireReady().catch((err: unknown) => failures.push(err));
    handler = (_req, _body, res) => res.end(`status=OK\n${esc}=1\n${esc}=2\n`);
    await new HttpTransport(url).status().catch((err: unknown) => failures.push(err));
    expect(failures).toHaveLength(2);
    for (const err of failures) {
      expect(err).toBeInstanceOf(YubiHsmError);
      // eslint-disable-next-line no-control-regex
      expect((err as YubiHsmError).message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    }
  });

  it('refuses a connector URL with credentials, without repeating them', () => {
    for (const bad of ['http://operator:s3cret-pw@127.0.0.1:12345', 'http://s3cret-pw@127.0.0.1:12345', 'http//s3cret-pw']) {
      let caught: unknown;
      try {
        new HttpTransport(bad);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(YubiHsmError);
      expect((caught as YubiHsmError).code).toBe('YUBIHSM_REQUEST_INVALID');
      expect((caught as YubiHsmError).message).not.toContain('s3cret');
    }
  });

  it('refuses an oversized status page', async () => {
    handler = (_req, _body, res) => res.end('status=OK\n' + 'x=y\n'.repeat(2000));
    await expect(new HttpTransport(url).status()).toThrowWithCode('YUBIHSM_CONNECTOR_NOT_READY');
  });
});

describe('connector API', () => {
  const response = hex('810005' + '6162636465');

  it('POSTs the frame as application/octet-stream to /connector/api', async () => {
    handler = (_req, _body, res) => res.end(response);
    const out = await new HttpTransport(url + '/').send(hex('010005' + '6162636465'));
    expect(toHex(out)).toBe(toHex(response));
    expect(seen.at(-1)).toEqual({ method: 'POST', path: '/connector/api', contentType: 'application/octet-stream', body: '0100056162636465' });
  });

  it('assembles a chunked body cut at every byte boundary', async () => {
    const t = new HttpTransport(url);
    for (let cut = 1; cut < response.length; cut++) {
      handler = (_req, _body, res) => void writeChunks(res, [response.subarray(0, cut), response.subarray(cut)]);
      expect(toHex(await t.send(hex('010000')))).toBe(toHex(response));
    }
  });

  it('assembles a body sent one byte per chunk', async () => {
    handler = (_req, _body, res) => void writeChunks(res, Array.from(response, (b) => Uint8Array.of(b)));
    expect(toHex(await new HttpTransport(url).send(hex('010000')))).toBe(toHex(response));
  });

  it('refuses a body that ends early, at every byte', async () => {
    const t = new HttpTransport(url);
    for (let n = 0; n < response.length; n++) {
      handler = (_req, _body, res) => void writeChunks(res, [response.subarray(0, n)]);
      await expect(t.send(hex('010000'))).toThrowWithCode('YUBIHSM_FRAME_MALFORMED');
    }
  });

  it('refuses bytes after the frame', async () => {
    handler = (_req, _body, res) => void writeChunks(res, [response, hex('00')]);
    await expect(new HttpTransport(url).send(hex('010000'))).toThrowWithCode('YUBIHSM_FRAME_MALFORMED');
  });

  it('refuses a body announcing more than the device limit without reading it all', async () => {
    handler = (_req, _body, res) => void writeChunks(res, [hex('81ffff'), new Uint8Array(1000)]);
    await expect(new HttpTransport(url).send(hex('010000'))).toThrowWithCode('YUBIHSM_FRAME_MALFORMED');
  });

  it('reports an HTTP error status (the connector cannot reach the device)', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(500);
      res.end('Internal Server Error\n');
    };
    await expect(new HttpTransport(url).send(hex('010000'))).toThrowWithCode('YUBIHSM_CONNECTOR_HTTP_STATUS');
  });

  it('reports a connector that never answers as a timeout', async () => {
    handler = () => undefined; // no answer
    await expect(new HttpTransport(url, { timeoutMs: 200 }).send(hex('010000'))).toThrowWithCode('YUBIHSM_TIMEOUT');
  });

  it('reports a connector that sends the headers and part of the body, then stalls, as a timeout', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200);
      res.write(response.subarray(0, 4)); // and nothing more, the connection left open
    };
    await expect(new HttpTransport(url, { timeoutMs: 200 }).send(hex('010000'))).toThrowWithCode('YUBIHSM_TIMEOUT');
    handler = (_req, _body, res) => {
      res.writeHead(200);
      res.write('status=OK\n');
    };
    await expect(new HttpTransport(url, { timeoutMs: 200 }).status()).toThrowWithCode('YUBIHSM_TIMEOUT');
  });

  it('reports a connection cut mid-body', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200);
      res.write(response.subarray(0, 4));
      setTimeout(() => res.destroy(), 20);
    };
    await expect(new HttpTransport(url).send(hex('010000'))).toThrowWithCode('YUBIHSM_CONNECTOR_UNREACHABLE');
  });

  it('reports a connector that is not listening', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    await expect(new HttpTransport(`http://127.0.0.1:${port}`).send(hex('010000'))).toThrowWithCode('YUBIHSM_CONNECTOR_UNREACHABLE');
  });

  it('refuses URLs that are not http(s), and sends nothing once closed', async () => {
    expect(() => new HttpTransport('ftp://127.0.0.1')).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
    expect(() => new HttpTransport('not a url')).toThrowWithCode('YUBIHSM_REQUEST_INVALID');
    const t = new HttpTransport(url);
    await t.close();
    await expect(t.send(hex('010000'))).toThrowWithCode('YUBIHSM_TRANSPORT_CLOSED');
  });
});
