import { RunbookError } from '../../errors.ts';
import { YubiHsmError } from '../errors.ts';
import { DeviceError } from '../protocol/errors.ts';

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
  /** A construction option is out of range (serial, firmware version, fault hook). */
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
 * short read of the bounded Reader, which the handlers create with the code
 * YUBIHSM_DEVICE_WRONG_LENGTH (the host sent fewer or more bytes than the
 * command takes). Anything else is a fault of the simulator.
 */
export function asRefusal(err: unknown): DeviceRefusal | undefined {
  if (err instanceof DeviceRefusal) return err;
  if (err instanceof YubiHsmError && err.code === 'YUBIHSM_DEVICE_WRONG_LENGTH') return new DeviceRefusal(DeviceError.WrongLength, err.message);
  return undefined;
}
