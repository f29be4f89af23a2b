import { YubiHsmError, type YubiHsmErrorCode } from '../errors.ts';

/**
 * The device's error codes: the single data byte of an error response
 * (`0x7f | 0x0001 | code`). Yubico command reference, "Errors"; the values
 * are those libyubihsm translates (`translate_device_error`).
 */
export const enum DeviceError {
  /** Success; never sent in an error frame. */
  Ok = 0x00,
  /** Unknown command. */
  InvalidCommand = 0x01,
  /** Malformed command data, or a value out of range. */
  InvalidData = 0x02,
  /** The session id is unknown, or the session is not (yet) authenticated. */
  InvalidSession = 0x03,
  /** MAC or host cryptogram failed to verify. */
  AuthenticationFailed = 0x04,
  /** All 16 sessions are allocated. */
  SessionsFull = 0x05,
  /** Session creation failed. */
  SessionFailed = 0x06,
  /** Storage failure (full, or write error). */
  StorageFailed = 0x07,
  /** A length is wrong (e.g. a message longer than the device accepts). */
  WrongLength = 0x08,
  /** The session or the object lacks the capability the command needs. */
  InsufficientPermissions = 0x09,
  /** The log is full and forced audit is enabled. */
  LogFull = 0x0a,
  /** The object does not exist (or is outside the session's domains). */
  ObjectNotFound = 0x0b,
  /** The id is illegal for this use (e.g. 0, or 0xffff). */
  InvalidId = 0x0c,
  /** SSH CA constraint violation. */
  SshCaConstraintViolation = 0x0e,
  /** OTP did not verify. */
  InvalidOtp = 0x0f,
  /** Demo mode: power-cycle the device. */
  DemoMode = 0x10,
  /** An object with that id and type already exists. */
  ObjectExists = 0x11,
  /** The algorithm is disabled. */
  AlgorithmDisabled = 0x12,
  /** The command did not execute. */
  CommandUnexecuted = 0xff,
}

/** A documented error byte: its stable code, and how the failure reads in a message. */
interface DocumentedError {
  readonly code: YubiHsmErrorCode;
  readonly description: string;
}

const DEVICE_ERRORS: ReadonlyMap<number, DocumentedError> = new Map<number, DocumentedError>([
  [DeviceError.InvalidCommand, { code: 'YUBIHSM_DEVICE_INVALID_COMMAND', description: 'invalid command' }],
  [DeviceError.InvalidData, { code: 'YUBIHSM_DEVICE_INVALID_DATA', description: 'invalid data' }],
  [DeviceError.InvalidSession, { code: 'YUBIHSM_DEVICE_INVALID_SESSION', description: 'invalid session' }],
  [DeviceError.AuthenticationFailed, { code: 'YUBIHSM_DEVICE_AUTH_FAIL', description: 'authentication failed' }],
  [DeviceError.SessionsFull, { code: 'YUBIHSM_DEVICE_SESSIONS_FULL', description: 'all sessions are in use' }],
  [DeviceError.SessionFailed, { code: 'YUBIHSM_DEVICE_SESSION_FAILED', description: 'session creation failed' }],
  [DeviceError.StorageFailed, { code: 'YUBIHSM_DEVICE_STORAGE_FAILED', description: 'storage failed' }],
  [DeviceError.WrongLength, { code: 'YUBIHSM_DEVICE_WRONG_LENGTH', description: 'wrong length' }],
  [DeviceError.InsufficientPermissions, { code: 'YUBIHSM_DEVICE_INSUFFICIENT_PERMISSIONS', description: 'insufficient permissions' }],
  [DeviceError.LogFull, { code: 'YUBIHSM_DEVICE_LOG_FULL', description: 'audit log full' }],
  [DeviceError.ObjectNotFound, { code: 'YUBIHSM_DEVICE_OBJECT_NOT_FOUND', description: 'object not found' }],
  [DeviceError.InvalidId, { code: 'YUBIHSM_DEVICE_INVALID_ID', description: 'invalid object id' }],
  [DeviceError.SshCaConstraintViolation, { code: 'YUBIHSM_DEVICE_SSH_CA_CONSTRAINT_VIOLATION', description: 'SSH CA constraint violation' }],
  [DeviceError.InvalidOtp, { code: 'YUBIHSM_DEVICE_INVALID_OTP', description: 'invalid OTP' }],
  [DeviceError.DemoMode, { code: 'YUBIHSM_DEVICE_DEMO_MODE', description: 'demo mode (power-cycle the device)' }],
  [DeviceError.ObjectExists, { code: 'YUBIHSM_DEVICE_OBJECT_EXISTS', description: 'object already exists' }],
  [DeviceError.AlgorithmDisabled, { code: 'YUBIHSM_DEVICE_ALGORITHM_DISABLED', description: 'algorithm disabled' }],
  [DeviceError.CommandUnexecuted, { code: 'YUBIHSM_DEVICE_COMMAND_UNEXECUTED', description: 'command not executed' }],
]);

const BYTES: ReadonlyMap<YubiHsmErrorCode, DeviceError> = new Map([...DEVICE_ERRORS].map(([byte, { code }]) => [code, byte as DeviceError]));

/**
 * The device error byte a code stands for, or undefined for host-side codes.
 * The device-side decoders (`decode*Request`) throw YubiHsmErrors with the
 * code of the error the device answers; the simulator turns them back into
 * the byte of its error frame with this.
 */
export function deviceErrorByte(code: YubiHsmErrorCode): DeviceError | undefined {
  return BYTES.get(code);
}

/** The stable error code for a device error byte (unknown bytes map to YUBIHSM_DEVICE_UNKNOWN_ERROR). */
export function deviceErrorCode(code: number): YubiHsmErrorCode {
  return DEVICE_ERRORS.get(code)?.code ?? 'YUBIHSM_DEVICE_UNKNOWN_ERROR';
}

/**
 * The typed error for a device error byte. `context` names the command (and,
 * where the caller knows it, the device); the byte itself is kept in
 * `deviceCode`.
 */
export function deviceError(code: number, context: string): YubiHsmError {
  const what = DEVICE_ERRORS.get(code)?.description ?? 'undocumented error';
  const hex = `0x${code.toString(16).padStart(2, '0')}`;
  return new YubiHsmError(deviceErrorCode(code), `${context}: ${what} (device error ${hex})`, {
    deviceCode: code,
  });
}
