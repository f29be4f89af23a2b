import { DeviceError } from '../protocol/errors.ts';
import {
  AuditSetting,
  decodeCommandAuditValue,
  decodeForceAuditValue,
  DeviceOption,
  encodeCommandAuditValue,
  encodeForceAuditValue,
  type CommandAudit,
} from '../protocol/option-commands.ts';
import { refuse } from './errors.ts';

/**
 * The device-global options SET OPTION and GET OPTION reach (Yubico
 * command reference, "SET OPTION"; "Logging and Logs: Options";
 * "Set Command Audit Option"): force-audit and command-audit. A factory
 * reset restores them.
 *
 * Firmware 2.1 has no other option: algorithm-toggle and fips-mode came with
 * firmware 2.2.0, and a 2.1 device answers INVALID DATA for them (which is
 * what python-yubihsm's get_enabled_algorithms expects from older devices).
 */

/**
 * The commands command-audit lists, in the order the device lists them
 * (Yubico, "Set Command Audit Option": the get-option example), without
 * those later firmware added (0x0a GET DEVICE PUBLIC KEY, 0x6d–0x77). 0x07
 * and 0x09 are listed by the device although the command reference does
 * not name them.
 */
export const AUDITED_COMMANDS: readonly number[] = [
  0x01, 0x03, 0x04, 0x05, 0x06, 0x07, 0x09, 0x08, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x55, 0x56, 0x48, 0x49, 0x57, 0x4a,
  0x4b, 0x4c, 0x4d, 0x67, 0x4e, 0x4f, 0x50, 0x51, 0x52, 0x53, 0x54, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62,
  0x63, 0x64, 0x65, 0x66, 0x68, 0x69, 0x6a, 0x6b, 0x6c,
];

const LISTED: ReadonlySet<number> = new Set(AUDITED_COMMANDS);

/** The options as the state directory keeps them. */
export interface OptionsSnapshot {
  readonly forceAudit: AuditSetting;
  readonly commandAudit: readonly CommandAudit[];
}

export class DeviceOptions {
  private force: AuditSetting = AuditSetting.Off;
  private readonly commands = new Map<number, AuditSetting>();

  constructor() {
    this.reset();
  }

  /**
   * Factory values: force-audit off; command-audit on for every command.
   * Devices before firmware 2.3.1 log commands by default and later ones do
   * not (python-yubihsm's log tests); which commands a 2.1 device logs by
   * default is not documented, so the simulator logs them all.
   */
  reset(): void {
    this.force = AuditSetting.Off;
    this.commands.clear();
    for (const c of AUDITED_COMMANDS) this.commands.set(c, AuditSetting.On);
  }

  /** True when force-audit is on (or fixed on). */
  get forced(): boolean {
    return this.force !== AuditSetting.Off;
  }

  /**
   * True when `command` is logged. Codes command-audit does not list (codes
   * the device does not know) are logged as the refusals they get.
   */
  audited(command: number): boolean {
    return (this.commands.get(command) ?? AuditSetting.On) !== AuditSetting.Off;
  }

  /**
   * SET OPTION: applies a value, or refuses it as the device does (an option
   * firmware 2.1 does not have, a malformed value: INVALID DATA). A setting
   * that is fixed can be set to fixed again but not changed (the simulator's
   * reading of "only possible to turn off through factory reset"). Nothing
   * changes unless the whole value is accepted.
   */
  set(option: number, value: Uint8Array): void {
    // A host-sent byte; tags firmware 2.1 does not define fall to the default.
    switch (option as DeviceOption) {
      case DeviceOption.ForceAudit: {
        const setting = decodeForceAuditValue(value, 'YUBIHSM_DEVICE_INVALID_DATA');
        if (this.force === AuditSetting.Fixed && setting !== AuditSetting.Fixed) {
          throw refuse(DeviceError.InvalidData, 'force-audit is fixed on until a factory reset');
        }
        this.force = setting;
        return;
      }
      case DeviceOption.CommandAudit: {
        const settings = decodeCommandAuditValue(value, 'YUBIHSM_DEVICE_INVALID_DATA');
        for (const { command, setting } of settings) {
          if (!LISTED.has(command)) throw refuse(DeviceError.InvalidData, `command-audit has no command 0x${command.toString(16)}`);
          if (this.commands.get(command) === AuditSetting.Fixed && setting !== AuditSetting.Fixed) {
            throw refuse(DeviceError.InvalidData, `command-audit of 0x${command.toString(16)} is fixed on until a factory reset`);
          }
        }
        for (const { command, setting } of settings) this.commands.set(command, setting);
        return;
      }
      default:
        throw refuse(DeviceError.InvalidData, `option 0x${option.toString(16)} is not one firmware 2.1 has`);
    }
  }

  /** GET OPTION: the value of an option, or INVALID DATA for one firmware 2.1 does not have. */
  get(option: number): Uint8Array {
    switch (option as DeviceOption) {
      case DeviceOption.ForceAudit:
        return encodeForceAuditValue(this.force);
      case DeviceOption.CommandAudit:
        return encodeCommandAuditValue(this.commandAudit());
      default:
        throw refuse(DeviceError.InvalidData, `option 0x${option.toString(16)} is not one firmware 2.1 has`);
    }
  }

  private commandAudit(): CommandAudit[] {
    return AUDITED_COMMANDS.map((command) => ({ command, setting: this.commands.get(command) ?? AuditSetting.On }));
  }

  snapshot(): OptionsSnapshot {
    return { forceAudit: this.force, commandAudit: this.commandAudit() };
  }

  restore(s: OptionsSnapshot): void {
    this.reset();
    this.force = s.forceAudit;
    for (const { command, setting } of s.commandAudit) if (LISTED.has(command)) this.commands.set(command, setting);
  }
}
