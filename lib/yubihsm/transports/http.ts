/**
 * The yubihsm-connector HTTP API (Yubico's connector, or `runbook simulate
 * yubihsm`):
 *
 *   GET  /connector/status  -> text lines `key=value`: status=OK|NO_DEVICE,
 *                              serial=<serial or *>, version, pid, address, port
 *   POST /connector/api     -> body: one request frame
 *                              (Content-Type: application/octet-stream);
 *                              answer: one response frame, 200, or an HTTP
 *                              error status when the device cannot be reached
 *
 * Everything the connector sends is attacker-controlled: the status page is
 * size-bounded and parsed strictly, the response body is streamed through
 * a FrameAssembler that refuses more than one frame or more than the
 * device's message limit, and every exchange has a timeout.
 */
import { untrustedText } from '../../untrusted-text.ts';
import { YubiHsmError } from '../errors.ts';
import { FrameAssembler } from '../protocol/frame.ts';
import type { Transport } from './transport.ts';

/** The connector's default address. */
export const DEFAULT_CONNECTOR_URL = 'http://127.0.0.1:12345';

/** The status page is a handful of short lines; anything much longer is not a connector. */
const MAX_STATUS_BYTES = 4096;

export interface ConnectorStatus {
  /** status=…: "OK" when the connector reaches a device. */
  readonly status: string;
  /** serial=…: the serial the connector is bound to, or undefined for "*" (any device). */
  readonly serial: string | undefined;
  readonly version: string | undefined;
  readonly pid: number | undefined;
  readonly address: string | undefined;
  readonly port: number | undefined;
}

/**
 * Parses a status page (attacker-controlled: whatever answers at the URL).
 * Lines are `key=value`; unknown keys are ignored (a newer connector may add
 * some), a line without '=' or a repeated key is malformed, `status` must be
 * present, and `serial`, when it names a device, is digits.
 */
export function parseConnectorStatus(text: string, where = 'the connector'): ConnectorStatus {
  const fields = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new YubiHsmError('YUBIHSM_CONNECTOR_NOT_READY', `${where}: the status page has a line that is not key=value`);
    const key = line.slice(0, eq);
    if (fields.has(key)) throw new YubiHsmError('YUBIHSM_CONNECTOR_NOT_READY', `${where}: the status page repeats ${untrustedText(key)}`);
    fields.set(key, line.slice(eq + 1));
  }
  const status = fields.get('status');
  if (status === undefined) throw new YubiHsmError('YUBIHSM_CONNECTOR_NOT_READY', `${where}: the status page has no status line`);
  // The serial names the device in every later message: digits only (or "*", any device).
  const serial = fields.get('serial');
  if (serial !== undefined && serial !== '*' && serial !== '' && !/^\d{1,10}$/.test(serial)) {
    throw new YubiHsmError('YUBIHSM_CONNECTOR_NOT_READY', `${where}: the status page's serial ${untrustedText(serial)} is not a serial number`);
  }
  const num = (k: string): number | undefined => {
    const v = fields.get(k);
    return v !== undefined && /^\d{1,10}$/.test(v) ? Number(v) : undefined;
  };
  return {
    status,
    serial: serial === undefined || serial === '*' || serial === '' ? undefined : serial,
    version: fields.get('version'),
    pid: num('pid'),
    address: fields.get('address'),
    port: num('port'),
  };
}

export interface HttpTransportOptions {
  /** Per-exchange timeout in milliseconds (default 30 s: RSA key generation on a real device takes seconds). */
  readonly timeoutMs?: number;
  /** The fetch to use (tests may pass one); defaults to Node's. */
  readonly fetch?: typeof fetch;
}

export class HttpTransport implements Transport {
  readonly url: string;
  private readonly apiUrl: string;
  private readonly statusUrl: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;
  private closed = false;

  constructor(url: string = DEFAULT_CONNECTOR_URL, options: HttpTransportOptions = {}) {
    let base: URL;
    try {
      base = new URL(url);
    } catch {
      // The text is not echoed: whatever was passed may hold a secret.
      throw new YubiHsmError('YUBIHSM_REQUEST_INVALID', 'the connector URL is not a valid URL');
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new YubiHsmError('YUBIHSM_REQUEST_INVALID', `a connector URL is http:// or https://, not ${untrustedText(base.protocol, 12)}`);
    }
    // The connector has no accounts; credentials in the URL would only be
    // carried into messages and logs (and fetch refuses them anyway).
    if (base.username !== '' || base.password !== '') {
      throw new YubiHsmError('YUBIHSM_REQUEST_INVALID', 'a connector URL carries no user name or password');
    }
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.url = base.origin + base.pathname.replace(/\/$/, '');
    this.apiUrl = new URL('connector/api', base).href;
    this.statusUrl = new URL('connector/status', base).href;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.fetchFn = options.fetch ?? fetch;
  }

  /** GET /connector/status, parsed. Fails unless the connector answers 200 with a well-formed page. */
  async status(): Promise<ConnectorStatus> {
    const res = await this.request(this.statusUrl, { method: 'GET' });
    const body = await readBounded(res, MAX_STATUS_BYTES, `${this.url} status page`, this.timeoutMs);
    return parseConnectorStatus(new TextDecoder('utf-8', { fatal: false }).decode(body), this.url);
  }

  /** GET /connector/status, and fail with YUBIHSM_CONNECTOR_NOT_READY unless it says status=OK. */
  async requireReady(): Promise<ConnectorStatus> {
    const st = await this.status();
    if (st.status !== 'OK') {
      throw new YubiHsmError('YUBIHSM_CONNECTOR_NOT_READY', `${this.url}: the connector reports status=${untrustedText(st.status)}`);
    }
    return st;
  }

  async send(request: Uint8Array): Promise<Uint8Array> {
    if (this.closed) throw new YubiHsmError('YUBIHSM_TRANSPORT_CLOSED', `the transport to ${this.url} is closed`);
    const res = await this.request(this.apiUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: request,
    });
    return readFrame(res, `response from ${this.url}`, this.timeoutMs);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  private async request(url: string, init: RequestInit): Promise<Response> {
    let res: Response;
    try {
      res = await this.fetchFn(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      if (isTimeout(err)) throw new YubiHsmError('YUBIHSM_TIMEOUT', `${this.url} did not answer within ${this.timeoutMs} ms`, { cause: err });
      throw new YubiHsmError('YUBIHSM_CONNECTOR_UNREACHABLE', `cannot reach the connector at ${this.url}`, { cause: err });
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      throw new YubiHsmError('YUBIHSM_CONNECTOR_HTTP_STATUS', `${this.url} answered HTTP ${res.status}`);
    }
    return res;
  }
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

/** Reads a response body chunk by chunk into one frame; refuses anything beyond it. */
async function readFrame(res: Response, what: string, timeoutMs: number): Promise<Uint8Array> {
  const assembler = new FrameAssembler(what);
  await eachChunk(res, what, timeoutMs, (chunk) => {
    assembler.push(chunk);
  });
  return assembler.finish();
}

async function readBounded(res: Response, max: number, what: string, timeoutMs: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  await eachChunk(res, what, timeoutMs, (chunk) => {
    n += chunk.length;
    if (n > max) throw new YubiHsmError('YUBIHSM_CONNECTOR_NOT_READY', `${what}: more than ${max} bytes`);
    parts.push(chunk);
  });
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function eachChunk(res: Response, what: string, timeoutMs: number, onChunk: (chunk: Uint8Array) => void): Promise<void> {
  if (res.body === null) return;
  const reader = res.body.getReader();
  try {
    for (;;) {
      let step: Awaited<ReturnType<typeof reader.read>>;
      try {
        step = await reader.read();
      } catch (err) {
        if (isTimeout(err)) throw new YubiHsmError('YUBIHSM_TIMEOUT', `${what}: the body did not arrive within ${timeoutMs} ms`, { cause: err });
        throw new YubiHsmError('YUBIHSM_CONNECTOR_UNREACHABLE', `${what}: the connection failed mid-body`, { cause: err });
      }
      if (step.done) return;
      const chunk: unknown = step.value;
      if (!(chunk instanceof Uint8Array)) throw new YubiHsmError('YUBIHSM_CONNECTOR_UNREACHABLE', `${what}: the body is not a byte stream`);
      onChunk(chunk);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
