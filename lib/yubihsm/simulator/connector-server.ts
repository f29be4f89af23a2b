import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_MESSAGE_BYTES, FRAME_HEADER_BYTES } from '../protocol/frame.ts';
import type { FrameDevice } from '../transports/transport.ts';
import { SimulatorError } from './errors.ts';

/**
 * The yubihsm-connector HTTP API in front of a simulated device, so that any
 * connector client (ours, Yubico's yubihsm-shell and libyubihsm with
 * `--connector http://127.0.0.1:PORT`) can drive it. Behaviour follows
 * yubihsm-connector's own handlers (api.go in Yubico/yubihsm-connector):
 *
 *   GET /connector/status   200 text lines status=OK (NO_DEVICE when the
 *                           device is unplugged, or off the bus rebooting
 *                           after RESET DEVICE: the connector's USB reopen
 *                           fails), serial=<10 digits>, version, pid,
 *                           address, port; 405 with `Allow: GET` for any
 *                           other method.
 *   POST /connector/api     the body is one request frame, the answer one
 *                           response frame (application/octet-stream).
 *                           405 with `Allow: POST` for another method; 400
 *                           when Content-Length is missing, under 3 or over
 *                           2048 + 3; 500 when the device does not answer
 *                           (unplugged, rebooting, closed).
 *   anything else           404 "404 page not found".
 *   Host not a loopback     403, whatever the path (see isLoopbackHostHeader).
 *
 * Like the real connector it does not look at the request's Content-Type.
 * The status page stays short: libyubihsm's HTTP backend reads it into a
 * 257-byte buffer.
 * It listens on loopback only: the simulator is a test device and its CA
 * keys are public.
 */

/** The yubihsm-connector release whose API this mirrors; libyubihsm parses it as major.minor.patch. */
export const CONNECTOR_VERSION = '3.0.5';
/** The connector refuses bodies more than 3 bytes over the device's message size (api.go: "max_len"). */
export const MAX_BODY_BYTES = MAX_MESSAGE_BYTES + 3;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export interface ConnectorDevice extends FrameDevice {
  readonly serial: number;
  /** True while the device is on the bus (plugged in, not rebooting). */
  readonly isConnected: boolean;
}

export interface ConnectorServerOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Loopback address to listen on (default 127.0.0.1). */
  host?: string;
}

/** Go's http.Error: the status text, a newline, plain text, nosniff. */
function httpError(res: ServerResponse, status: number, text: string, allow?: string): void {
  if (allow) res.setHeader('Allow', allow);
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.writeHead(status);
  res.end(`${text}\n`);
}

export class ConnectorServer {
  private constructor(
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
  ) {}

  /** The URL clients pass as `--connector`. */
  get url(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  static async start(device: ConnectorDevice, options: ConnectorServerOptions = {}): Promise<ConnectorServer> {
    const host = options.host ?? '127.0.0.1';
    if (!LOOPBACK.has(host)) {
      throw new SimulatorError('SIMULATOR_SERVER_FAILED', `the simulated connector listens on loopback only, not ${host}`);
    }
    let port = 0;
    const server = createServer((req, res) => {
      res.setHeader('X-Request-ID', req.headers['x-request-id']?.toString() || randomUUID());
      handle(device, host, port, req, res).catch(() => {
        if (!res.headersSent) httpError(res, 500, 'Internal Server Error');
        else res.destroy();
      });
    });
    // As the real connector's ReadTimeout: a client that stalls mid-request is dropped.
    server.requestTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(new SimulatorError('SIMULATOR_SERVER_FAILED', `cannot listen on ${host}:${options.port ?? 0}: ${err.message}`, { cause: err })),
      );
      server.listen(options.port ?? 0, host, () => resolve());
    });
    port = (server.address() as AddressInfo).port;
    return new ConnectorServer(server, host, port);
  }

  /** Stops listening and drops open connections. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/**
 * True when a Host header names this machine by a loopback name, or is
 * absent (HTTP/1.0 tools). Listening on loopback keeps other machines out,
 * but a web page in the operator's browser can still reach 127.0.0.1 under
 * its own host name through DNS rebinding; browsers always send that name in
 * Host, so such requests are refused before they reach the device.
 * The header is attacker-controlled and only parsed, never echoed.
 */
export function isLoopbackHostHeader(header: string | undefined): boolean {
  if (header === undefined) return true;
  let name: string;
  try {
    name = new URL(`http://${header}`).hostname;
  } catch {
    return false;
  }
  return name === '127.0.0.1' || name === 'localhost' || name === '[::1]';
}

async function handle(device: ConnectorDevice, host: string, port: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!isLoopbackHostHeader(req.headers.host)) {
    req.resume();
    return httpError(res, 403, 'Forbidden');
  }
  const path = new URL(req.url ?? '/', 'http://connector').pathname;
  if (path === '/connector/status') return status(device, host, port, req, res);
  if (path === '/connector/api') return api(device, req, res);
  httpError(res, 404, '404 page not found');
}

function status(device: ConnectorDevice, host: string, port: number, req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  if (req.method !== 'GET') return httpError(res, 405, 'Method Not Allowed', 'GET');
  const lines = [
    `status=${device.isConnected ? 'OK' : 'NO_DEVICE'}`,
    `serial=${String(device.serial).padStart(10, '0')}`,
    `version=${CONNECTOR_VERSION}`,
    `pid=${process.pid}`,
    `address=${host}`,
    `port=${port}`,
  ];
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.writeHead(200);
  res.end(`${lines.join('\n')}\n`);
}

async function api(device: ConnectorDevice, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') {
    req.resume();
    return httpError(res, 405, 'Method Not Allowed', 'POST');
  }
  // Content-Length is attacker-controlled; without one (chunked) Go reports -1, which the connector refuses.
  const declared = req.headers['content-length'] === undefined ? -1 : Number(req.headers['content-length']);
  if (!Number.isSafeInteger(declared) || declared < FRAME_HEADER_BYTES || declared > MAX_BODY_BYTES) {
    req.resume();
    return httpError(res, 400, 'Bad Request');
  }
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > declared) return httpError(res, 400, 'Bad Request');
    chunks.push(chunk);
  }
  let response: Uint8Array;
  try {
    response = await device.transmit(new Uint8Array(Buffer.concat(chunks)));
  } catch {
    // The real connector answers 500 when the USB exchange fails.
    return httpError(res, 500, 'Internal Server Error');
  }
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('Content-Length', response.length);
  res.writeHead(200);
  res.end(Buffer.from(response.buffer, response.byteOffset, response.length));
}
