/**
 * Waiting for a YubiHSM 2 to come back. After RESET DEVICE the device
 * answers, drops off the bus, reboots and enumerates again some seconds
 * later (the PSF runbook: "Waiting for the HSM to come back online";
 * python-yubihsm's reset tests close the connection and wait before
 * connecting again). Rather than sleep a guess, the host asks again and
 * again, at short and growing intervals, until the device answers GET
 * DEVICE INFO, and gives up, naming the device, when it has not come back in
 * time.
 */
import type { YubiHsmClient } from './client.ts';
import { YubiHsmError, type YubiHsmErrorCode } from './errors.ts';
import type { DeviceInfo } from './protocol/device-commands.ts';

export interface WaitForDeviceOptions {
  /** Stops waiting (YUBIHSM_WAIT_ABORTED) when it aborts. */
  readonly signal?: AbortSignal;
  /** Gives up after this many milliseconds (YUBIHSM_DEVICE_DID_NOT_RETURN); default 30 s. */
  readonly timeoutMs?: number;
  /** Names the device in the error ("YubiHSM2-1 (YubiHSM 2 serial 0007550054)"). */
  readonly device?: string;
}

export interface DeviceBack {
  /** An open client to the device, which the caller now owns. */
  readonly client: YubiHsmClient;
  /** What the device answered to GET DEVICE INFO (the caller checks the serial is the one it reset). */
  readonly info: DeviceInfo;
}

/** A YubiHSM 2 comes back in a few seconds; 30 s is long enough to mean something is wrong. */
export const DEFAULT_WAIT_MS = 30_000;
/** The first pause between attempts, and the longest: short, so the device is found soon after it is back. */
const FIRST_PAUSE_MS = 10;
const LONGEST_PAUSE_MS = 250;

/**
 * Failures that mean the device is not (yet) there: nothing plugged in or
 * enumerated, the connector without a device, a transfer or exchange cut
 * off by the reboot. Anything else (a device error, a malformed answer, two
 * devices plugged in, a bad URL) is an answer, not an absence, and waiting
 * would not change it.
 */
const ABSENT: ReadonlySet<YubiHsmErrorCode> = new Set<YubiHsmErrorCode>([
  'YUBIHSM_USB_NO_DEVICE',
  'YUBIHSM_USB_OPEN_FAILED',
  'YUBIHSM_USB_TRANSFER_FAILED',
  'YUBIHSM_CONNECTOR_UNREACHABLE',
  'YUBIHSM_CONNECTOR_HTTP_STATUS',
  'YUBIHSM_CONNECTOR_NOT_READY',
  'YUBIHSM_LINK_FAILED',
  'YUBIHSM_TIMEOUT',
]);

function absent(err: unknown): boolean {
  return err instanceof YubiHsmError && ABSENT.has(err.code);
}

/** Resolves after `ms`, or rejects at once with `onAbort()` when `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined, onAbort: () => Error): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      signal?.removeEventListener('abort', aborted);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const aborted = () => {
      clearTimeout(timer);
      reject(onAbort());
    };
    signal?.addEventListener('abort', aborted, { once: true });
  });
}

/**
 * Opens clients with `open` and asks each for GET DEVICE INFO until one
 * answers; returns that client (open) and the answer. Clients whose attempt
 * failed are closed. Fails with YUBIHSM_DEVICE_DID_NOT_RETURN, naming the
 * device and carrying the last failure as its cause, once `timeoutMs` have
 * passed; with YUBIHSM_WAIT_ABORTED when `signal` aborts; and at once with
 * any failure that is not the device's absence.
 */
export async function waitForDevice(open: () => Promise<YubiHsmClient>, options: WaitForDeviceOptions = {}): Promise<DeviceBack> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new YubiHsmError('YUBIHSM_REQUEST_INVALID', `a wait of ${timeoutMs} ms is not a time to wait`);
  }
  const device = options.device ?? 'the YubiHSM 2';
  const { signal } = options;
  const started = performance.now();
  const aborted = () =>
    new YubiHsmError('YUBIHSM_WAIT_ABORTED', `stopped waiting for ${device} to come back`, { cause: signal?.reason });
  let last: unknown;
  let pauseMs = FIRST_PAUSE_MS;
  for (;;) {
    if (signal?.aborted) throw aborted();
    const left = timeoutMs - (performance.now() - started);
    if (left <= 0) {
      throw new YubiHsmError('YUBIHSM_DEVICE_DID_NOT_RETURN', `${device} did not come back within ${timeoutMs} ms`, { cause: last });
    }
    const outcome = await attempt(open, left, signal);
    if (outcome.kind === 'back') return outcome.back;
    if (outcome.kind === 'aborted') throw aborted();
    if (outcome.kind === 'failed') {
      if (!absent(outcome.error)) throw outcome.error;
      last = outcome.error;
    }
    const stillLeft = timeoutMs - (performance.now() - started);
    if (stillLeft > 0) await pause(Math.min(pauseMs, stillLeft), signal, aborted);
    pauseMs = Math.min(pauseMs * 2, LONGEST_PAUSE_MS);
  }
}

type Attempt =
  | { readonly kind: 'back'; readonly back: DeviceBack }
  | { readonly kind: 'failed'; readonly error: unknown }
  | { readonly kind: 'late' }
  | { readonly kind: 'aborted' };

/**
 * One try: open a client and ask it GET DEVICE INFO, for at most `ms` (a
 * transport may take far longer to fail than the wait has left). A try cut
 * off by the time or the signal is left to finish on its own, and its client
 * closed when it does.
 */
async function attempt(open: () => Promise<YubiHsmClient>, ms: number, signal: AbortSignal | undefined): Promise<Attempt> {
  const work = (async (): Promise<Attempt> => {
    let client: YubiHsmClient | undefined;
    try {
      client = await open();
      return { kind: 'back', back: { client, info: await client.getDeviceInfo() } };
    } catch (error) {
      await client?.close().catch(() => undefined);
      return { kind: 'failed', error };
    }
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const cutOff = new Promise<Attempt>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'late' }), ms);
    onAbort = () => resolve({ kind: 'aborted' });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const outcome = await Promise.race([work, cutOff]);
    if (outcome.kind === 'late' || outcome.kind === 'aborted') {
      // Nobody will use a client this try still opens: close it when it does.
      void work.then((late) => (late.kind === 'back' ? late.back.client.close().catch(() => undefined) : undefined));
    }
    return outcome;
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
