import { YubiHsmError } from '../errors.ts';
import type { FrameDevice, Transport } from './transport.ts';

/**
 * A transport to a device object in this process (the simulator): no
 * network, no USB, the same frames. The request is copied before it is handed
 * over and the response copied back, so neither side can alter bytes the
 * other still holds, as on a real wire.
 */
export class InProcessTransport implements Transport {
  private closed = false;

  constructor(private readonly device: FrameDevice) {}

  async send(request: Uint8Array): Promise<Uint8Array> {
    if (this.closed) throw new YubiHsmError('YUBIHSM_TRANSPORT_CLOSED', 'the in-process transport is closed');
    let response: Uint8Array;
    try {
      response = await this.device.transmit(Uint8Array.from(request));
    } catch (err) {
      // As a USB transfer failing: the device is gone or the link broke.
      if (err instanceof YubiHsmError) throw err;
      throw new YubiHsmError('YUBIHSM_LINK_FAILED', 'the in-process device did not answer', { cause: err });
    }
    return Uint8Array.from(response);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
