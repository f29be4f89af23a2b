/**
 * CREATE SESSION and CLOSE SESSION payloads (Yubico command reference,
 * "CREATE SESSION", "CLOSE SESSION"). AUTHENTICATE SESSION and SESSION
 * MESSAGE carry MACs and ciphertext and are built in `../session/scp03.ts`.
 */
import { YubiHsmError } from '../errors.ts';
import { CHALLENGE_BYTES, CRYPTOGRAM_BYTES, MAX_SESSIONS } from '../session/scp03.ts';
import { Reader, requestReader, Writer } from './bytes.ts';

export interface CreateSessionRequest {
  /** The authentication key the session is opened with. */
  readonly authKeyId: number;
  readonly hostChallenge: Uint8Array;
}

export interface CreateSessionResponse {
  /** 0..15. */
  readonly sessionId: number;
  readonly cardChallenge: Uint8Array;
  readonly cardCryptogram: Uint8Array;
}

/** CREATE SESSION request data: key id (2) ‖ host challenge (8). */
export function encodeCreateSessionRequest(req: CreateSessionRequest): Uint8Array {
  if (req.hostChallenge.length !== CHALLENGE_BYTES) {
    throw new YubiHsmError('YUBIHSM_REQUEST_INVALID', `a host challenge has ${CHALLENGE_BYTES} bytes`);
  }
  return new Writer(2 + CHALLENGE_BYTES).u16(req.authKeyId).bytes(req.hostChallenge).finish();
}

/** Device side: parses CREATE SESSION request data (attacker-controlled; wrong size: WRONG LENGTH). */
export function decodeCreateSessionRequest(data: Uint8Array): CreateSessionRequest {
  const r = requestReader(data, 'CREATE SESSION');
  const authKeyId = r.u16('key id');
  const hostChallenge = Uint8Array.from(r.bytesN(CHALLENGE_BYTES, 'host challenge'));
  r.end();
  return { authKeyId, hostChallenge };
}

/** Device side: CREATE SESSION response data: session id (1) ‖ card challenge (8) ‖ card cryptogram (8). */
export function encodeCreateSessionResponse(res: CreateSessionResponse): Uint8Array {
  return new Writer(1 + CHALLENGE_BYTES + CRYPTOGRAM_BYTES)
    .u8(res.sessionId)
    .bytes(res.cardChallenge)
    .bytes(res.cardCryptogram)
    .finish();
}

/** Host side: parses CREATE SESSION response data (attacker-controlled: exact length, session id 0..15). */
export function decodeCreateSessionResponse(data: Uint8Array): CreateSessionResponse {
  const r = new Reader(data, 'CREATE SESSION response');
  const sessionId = r.u8('session id');
  const cardChallenge = Uint8Array.from(r.bytesN(CHALLENGE_BYTES, 'card challenge'));
  const cardCryptogram = Uint8Array.from(r.bytesN(CRYPTOGRAM_BYTES, 'card cryptogram'));
  r.end();
  if (sessionId >= MAX_SESSIONS) {
    throw new YubiHsmError('YUBIHSM_RESPONSE_MALFORMED', `CREATE SESSION response: session id ${sessionId} is not 0..${MAX_SESSIONS - 1}`);
  }
  return { sessionId, cardChallenge, cardCryptogram };
}

/** Host side: a response that must be empty (AUTHENTICATE SESSION, CLOSE SESSION, RESET DEVICE, DELETE OBJECT). */
export function decodeEmptyResponse(data: Uint8Array, what: string): void {
  new Reader(data, `${what} response`).end();
}
