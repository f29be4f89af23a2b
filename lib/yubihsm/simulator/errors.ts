import { RunbookError } from '../../errors.ts';
import { YubiHsmError } from '../errors.ts';
import { deviceErrorByte, type DeviceError } from '../protocol/errors.ts';

/**
 * Faults of the simulator itself, as opposed to what the simulated device
 * answers. A device error (wrong password, missing capability, ...) is never
 * one of these: it goes back to the host as a wire error frame
 * (`0x7f 00 01 code`), exactly as the real device sends it.
 */
export type SimulatorErrorCode =
  /** A fault hook cut the simulated USB connection: the device no longer answers. */
  | 'SIMULATOR_DISCONNECTED'
  /** The simulated device was closed (`close()`); it answers nothing more. */
  | 'SIMULATOR_CLOSED'
  /** The simulated device is rebooting after RESET DEVICE: off the bus until `rebootMs` have passed. */
  | 'SIMULATOR_REBOOTING'
  /** A state directory's files (identity, objects) cannot be read, do not parse, or belong to another serial. */
  | 'SIMULATOR_STATE_INVALID'
  /** A state directory cannot be created or written. */
  | 'SIMULATOR_STATE_UNWRITABLE'
  /** A construction option is out of range (serial, firmware version, reboot time, fault hook). */
  | 'SIMULATOR_OPTION_INVALID'
  /** The committed simulated CA (lib/yubihsm/simulator/ca/) cannot be read or parsed. */
  | 'SIMULATOR_CA_UNREADABLE'
  /** The connector HTTP server could not start (port in use, not a loopback address). */
  | 'SIMULATOR_SERVER_FAILED';

export class SimulatorError extends RunbookError<SimulatorErrorCode> {}

/**
 * Thrown inside a command handler to make the device answer an error frame.
 * It never leaves the simulator: `SimulatedYubiHsm.transmit` turns it into
 * `0x7f 00 01 code`.
 */
export class DeviceRefusal extends Error {
  constructor(
    readonly deviceCode: DeviceError,
    message: string,
  ) {
    super(message);
    this.name = 'DeviceRefusal';
  }
}

/** Shorthand for handlers: `throw refuse(DeviceError.InvalidData, 'why')`. */
export function refuse(code: DeviceError, why: string): DeviceRefusal {
  return new DeviceRefusal(code, why);
}

/**
 * The refusal an exception stands for, if it is one: a DeviceRefusal, or a
 * YubiHsmError carrying a device error code, which is what the device-side
 * decoders of `../protocol` throw (WRONG LENGTH for a request shorter or
 * longer than its layout, INVALID DATA for a value the layout does not
 * allow). Anything else is a fault of the simulator.
 */
export function asRefusal(err: unknown): DeviceRefusal | undefined {
  if (err instanceof DeviceRefusal) return err;
  if (err instanceof YubiHsmError) {
    const byte = deviceErrorByte(err.code);
    if (byte !== undefined) return new DeviceRefusal(byte, err.message);
  }
  return undefined;
}
