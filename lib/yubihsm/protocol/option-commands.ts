/**
 * Device options: SET OPTION and GET OPTION payloads, and the values of the
 * two audit options (Yubico command reference, "SET OPTION", "GET OPTION";
 * "Logging and Logs: Options"; "Set Command Audit Option").
 *
 * SET OPTION carries one option as tag (1) ‖ length (2) ‖ value; GET OPTION
 * names a tag (1) and answers the value.
 */
import { YubiHsmError, type YubiHsmErrorCode } from '../errors.ts';
import { Reader, requestReader, Writer } from './bytes.ts';

/** Option tags (Yubico, "SET OPTION": tags). */
export const enum DeviceOption {
  /** force-audit: when on, the device refuses commands it cannot log while the Log Store is full. One AuditSetting byte. */
  ForceAudit = 0x01,
  /** command-audit: per command, whether it is logged. Pairs of command code (1) ‖ AuditSetting (1). */
  CommandAudit = 0x03,
  /** algorithm-toggle: per algorithm, enabled or not. Firmware 2.2.0 and later. */
  AlgorithmToggle = 0x04,
  /** fips-mode: FIPS devices only. Firmware 2.2.0 and later. */
  FipsMode = 0x05,
}

/** Values of the audit options (Yubico, "SET OPTION": values). */
export const enum AuditSetting {
  /** Disabled. */
  Off = 0x00,
  /** Enabled. */
  On = 0x01,
  /** Enabled, and only a factory reset turns it off ("fix"). */
  Fixed = 0x02,
}

/** The largest audit setting value the device defines. */
const MAX_AUDIT_SETTING: number = AuditSetting.Fixed;

/** One command's audit setting, as command-audit lists it. */
export interface CommandAudit {
  readonly command: number;
  readonly setting: AuditSetting;
}

/** SET OPTION request data: tag (1) ‖ length of the value (2) ‖ value. */
export function encodeSetOptionRequest(option: DeviceOption | number, value: Uint8Array): Uint8Array {
  return new Writer(3 + value.length).u8(option).u16(value.length).bytes(value).finish();
}

/**
 * Device side: parses SET OPTION request data (attacker-controlled). A length
 * field that does not match the bytes that follow is WRONG LENGTH; what the
 * value may be depends on the option, which the caller checks.
 */
export function decodeSetOptionRequest(data: Uint8Array): { option: number; value: Uint8Array } {
  const r = requestReader(data, 'SET OPTION');
  const option = r.u8('option tag');
  const length = r.u16('option length');
  const value = Uint8Array.from(r.bytesN(length, 'option value'));
  r.end();
  return { option, value };
}

/** GET OPTION request data: the tag (1). */
export function encodeGetOptionRequest(option: DeviceOption | number): Uint8Array {
  return new Writer(1).u8(option).finish();
}

/** Device side: parses GET OPTION request data (attacker-controlled; not exactly 1 byte: WRONG LENGTH). */
export function decodeGetOptionRequest(data: Uint8Array): number {
  const r = requestReader(data, 'GET OPTION');
  const option = r.u8('option tag');
  r.end();
  return option;
}

/** The force-audit value: one AuditSetting byte. */
export function encodeForceAuditValue(setting: AuditSetting): Uint8Array {
  return new Writer(1).u8(checkSetting(setting, 'YUBIHSM_REQUEST_INVALID', 'force-audit')).finish();
}

/**
 * Parses a force-audit value: a response on the host
 * (YUBIHSM_RESPONSE_MALFORMED), a SET OPTION value on the device
 * (YUBIHSM_DEVICE_INVALID_DATA). Attacker-controlled either way.
 */
export function decodeForceAuditValue(value: Uint8Array, code: OptionValueCode): AuditSetting {
  const r = new Reader(value, 'force-audit value', code);
  const setting = r.u8('setting');
  r.end();
  return checkSetting(setting, code, 'force-audit');
}

/** The command-audit value: command (1) ‖ AuditSetting (1), for each command given. */
export function encodeCommandAuditValue(settings: readonly CommandAudit[]): Uint8Array {
  const w = new Writer(2 * settings.length);
  for (const s of settings) w.u8(s.command).u8(checkSetting(s.setting, 'YUBIHSM_REQUEST_INVALID', `command-audit of 0x${s.command.toString(16)}`));
  return w.finish();
}

/**
 * Parses a command-audit value (attacker-controlled on either side; see
 * decodeForceAuditValue for the codes): whole pairs, each setting one the
 * device defines. Pairs are kept in the order sent.
 */
export function decodeCommandAuditValue(value: Uint8Array, code: OptionValueCode): CommandAudit[] {
  if (value.length % 2 !== 0) throw new YubiHsmError(code, `command-audit value: ${value.length} bytes is not a whole number of pairs`);
  const r = new Reader(value, 'command-audit value', code);
  const out: CommandAudit[] = [];
  while (r.remaining > 0) {
    const command = r.u8('command');
    out.push({ command, setting: checkSetting(r.u8('setting'), code, `command-audit of 0x${command.toString(16)}`) });
  }
  return out;
}

/** The error a malformed option value is: the host's (a response) or the device's (a request). */
export type OptionValueCode = Extract<YubiHsmErrorCode, 'YUBIHSM_RESPONSE_MALFORMED' | 'YUBIHSM_DEVICE_INVALID_DATA' | 'YUBIHSM_REQUEST_INVALID'>;

function checkSetting(setting: number, code: OptionValueCode, what: string): AuditSetting {
  if (!Number.isInteger(setting) || setting < 0 || setting > MAX_AUDIT_SETTING) {
    throw new YubiHsmError(code, `${what}: ${setting} is not off (0), on (1) or fixed (2)`);
  }
  return setting;
}
