import { RunbookError } from '../errors.ts';

/**
 * Errors of the YubiHSM 2 area: the device's own error codes (one code per
 * device error, so a caller can tell "wrong password" from "missing
 * capability" without reading a message), and the host side's failures
 * (malformed frames, SCP03 checks, transports).
 *
 * Messages name the device (serial or connector URL) and the command; they
 * never carry a password, a derived key, a session key or a plaintext.
 */
export type YubiHsmErrorCode =
  // ---- The device answered 0x7f + code (Yubico command reference, "Errors").
  /** 0x01: the device does not know the command. */
  | 'YUBIHSM_DEVICE_INVALID_COMMAND'
  /** 0x02: the command's data is malformed or out of range. */
  | 'YUBIHSM_DEVICE_INVALID_DATA'
  /** 0x03: no such session, or it is not authenticated. */
  | 'YUBIHSM_DEVICE_INVALID_SESSION'
  /** 0x04: the session's MAC or host cryptogram did not verify (wrong keys). */
  | 'YUBIHSM_DEVICE_AUTH_FAIL'
  /** 0x05: all 16 session slots are in use. */
  | 'YUBIHSM_DEVICE_SESSIONS_FULL'
  /** 0x06: the device could not create the session. */
  | 'YUBIHSM_DEVICE_SESSION_FAILED'
  /** 0x07: the object store is full or failed. */
  | 'YUBIHSM_DEVICE_STORAGE_FAILED'
  /** 0x08: a length in the command is wrong. */
  | 'YUBIHSM_DEVICE_WRONG_LENGTH'
  /** 0x09: the session's authentication key (or the object) lacks a capability. */
  | 'YUBIHSM_DEVICE_INSUFFICIENT_PERMISSIONS'
  /** 0x0a: the audit log is full and forced audit is on. */
  | 'YUBIHSM_DEVICE_LOG_FULL'
  /** 0x0b: no object with that id and type (or not in the session's domains). */
  | 'YUBIHSM_DEVICE_OBJECT_NOT_FOUND'
  /** 0x0c: the object id may not be used. */
  | 'YUBIHSM_DEVICE_INVALID_ID'
  /** 0x0e: an SSH certificate template constraint was violated. */
  | 'YUBIHSM_DEVICE_SSH_CA_CONSTRAINT_VIOLATION'
  /** 0x0f: an OTP did not decrypt or verify. */
  | 'YUBIHSM_DEVICE_INVALID_OTP'
  /** 0x10: the device is in demo mode and must be power-cycled. */
  | 'YUBIHSM_DEVICE_DEMO_MODE'
  /** 0x11: an object with that id and type already exists. */
  | 'YUBIHSM_DEVICE_OBJECT_EXISTS'
  /** 0x12: the algorithm is disabled on this device. */
  | 'YUBIHSM_DEVICE_ALGORITHM_DISABLED'
  /** 0xff: the command was not executed. */
  | 'YUBIHSM_DEVICE_COMMAND_UNEXECUTED'
  /** A code the device sent that Yubico does not document. */
  | 'YUBIHSM_DEVICE_UNKNOWN_ERROR'
  // ---- Host-side protocol checks.
  /** A frame from the device is truncated, too long, or its length field lies. */
  | 'YUBIHSM_FRAME_MALFORMED'
  /** The device answered a different command than the one sent. */
  | 'YUBIHSM_RESPONSE_UNEXPECTED'
  /** A well-framed response's payload does not have the documented layout. */
  | 'YUBIHSM_RESPONSE_MALFORMED'
  /** A request would exceed the device's message size, or an argument is out of range. */
  | 'YUBIHSM_REQUEST_INVALID'
  // ---- SCP03 session checks (host side).
  /** The card cryptogram did not verify: the password (or keys) do not match the authentication key. */
  | 'YUBIHSM_CARD_CRYPTOGRAM_MISMATCH'
  /** A session response's R-MAC did not verify, or it names another session. */
  | 'YUBIHSM_RESPONSE_MAC_MISMATCH'
  /** A session response did not decrypt to a padded frame. */
  | 'YUBIHSM_RESPONSE_DECRYPT_FAILED'
  /** The session is closed (closed here, by a reset, or after a failed exchange). */
  | 'YUBIHSM_SESSION_CLOSED'
  // ---- Transports.
  /** The connector could not be reached, or the HTTP exchange failed. */
  | 'YUBIHSM_CONNECTOR_UNREACHABLE'
  /** The connector answered with an HTTP status other than 200. */
  | 'YUBIHSM_CONNECTOR_HTTP_STATUS'
  /** The connector's status page is malformed or does not say status=OK. */
  | 'YUBIHSM_CONNECTOR_NOT_READY'
  /** No YubiHSM 2 is attached over USB. */
  | 'YUBIHSM_USB_NO_DEVICE'
  /** More than one YubiHSM 2 is attached, and none was chosen by serial. */
  | 'YUBIHSM_USB_SEVERAL_DEVICES'
  /** The USB device was found but could not be opened or claimed. */
  | 'YUBIHSM_USB_OPEN_FAILED'
  /** A USB bulk transfer failed or was cut short. */
  | 'YUBIHSM_USB_TRANSFER_FAILED'
  /** The native USB module could not be loaded. */
  | 'YUBIHSM_USB_UNAVAILABLE'
  /** The link to an in-process device failed (it threw, or a fault hook dropped it). */
  | 'YUBIHSM_LINK_FAILED'
  /** The transport has been closed. */
  | 'YUBIHSM_TRANSPORT_CLOSED'
  /** The device (or connector) did not answer in time. */
  | 'YUBIHSM_TIMEOUT'
  // ---- Waiting for a device to come back (lib/yubihsm/wait.ts).
  /** After a reset (or unplugging), the device did not answer GET DEVICE INFO again within the time allowed. */
  | 'YUBIHSM_DEVICE_DID_NOT_RETURN'
  /** Waiting for the device was given up because the caller's signal aborted. */
  | 'YUBIHSM_WAIT_ABORTED';

export class YubiHsmError extends RunbookError<YubiHsmErrorCode> {
  /** The device's own error byte (0x7f response), when the device sent one. */
  readonly deviceCode: number | undefined;

  constructor(code: YubiHsmErrorCode, message: string, options?: { cause?: unknown; deviceCode?: number }) {
    super(code, message, options);
    this.deviceCode = options?.deviceCode;
  }
}
