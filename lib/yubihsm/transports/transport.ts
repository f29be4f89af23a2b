/**
 * One way to reach a YubiHSM 2: a single request frame in, a single response
 * frame out. Implementations: the yubihsm-connector HTTP API (`http.ts`),
 * USB bulk transfers (`usb.ts`), and a device object in the same process
 * (`in-process.ts`, for the simulator).
 *
 * A transport moves bytes only. It does not interpret frames beyond what it
 * needs to know that a response is whole; framing, SCP03 and the commands
 * live in `../protocol` and `../session`. The bytes it returns are
 * attacker-controlled: callers parse them with the bounded decoders.
 */
export interface Transport {
  /** Sends one request frame and resolves with the device's one response frame. */
  send(request: Uint8Array): Promise<Uint8Array>;
  /** Releases the connection. Further `send` calls fail with YUBIHSM_TRANSPORT_CLOSED. */
  close(): Promise<void>;
}

/**
 * What the in-process transport talks to: a device that takes one request
 * frame and answers one response frame, exactly as the USB endpoint does.
 * The simulated YubiHSM implements this.
 */
export interface FrameDevice {
  transmit(request: Uint8Array): Promise<Uint8Array>;
}
