/**
 * Command codes of the YubiHSM 2 native protocol (Yubico command reference,
 * https://docs.yubico.com/hardware/yubihsm-2/hsm-2-user-guide/hsm2-cmd-reference.html;
 * values as libyubihsm's `yh_cmd`). A response carries the command code with
 * the high bit set (`command | 0x80`); an error response is `0x7f`.
 *
 * Only the commands this project sends have encoders and decoders; the rest
 * are listed so that logs and the audit trail can name every command.
 */
export const enum Command {
  /** ECHO: the device returns the data unchanged. */
  Echo = 0x01,
  /** CREATE SESSION: key id + host challenge -> session id, card challenge, card cryptogram. */
  CreateSession = 0x03,
  /** AUTHENTICATE SESSION: session id + host cryptogram + C-MAC. */
  AuthenticateSession = 0x04,
  /** SESSION MESSAGE: an encrypted, MACed inner command for an authenticated session. */
  SessionMessage = 0x05,
  /** GET DEVICE INFO: firmware version, serial, log usage, supported algorithms. */
  GetDeviceInfo = 0x06,
  /** RESET DEVICE: factory reset (all objects deleted, authentication key 1 restored). */
  ResetDevice = 0x08,
  /** GET DEVICE PUBLIC KEY: the device key for asymmetric authentication. */
  GetDevicePublicKey = 0x0a,
  /** CLOSE SESSION: frees the session slot. */
  CloseSession = 0x40,
  /** GET STORAGE INFO: free and total object records and pages. */
  GetStorageInfo = 0x41,
  /** PUT OPAQUE: import an opaque object (e.g. an X.509 certificate). */
  PutOpaque = 0x42,
  /** GET OPAQUE: read an opaque object (opaque 0 is the device attestation certificate). */
  GetOpaque = 0x43,
  /** PUT AUTHENTICATION KEY: import a symmetric authentication key (K-ENC, K-MAC). */
  PutAuthenticationKey = 0x44,
  /** PUT ASYMMETRIC KEY: import a private key. */
  PutAsymmetricKey = 0x45,
  /** GENERATE ASYMMETRIC KEY: generate a key pair inside the device. */
  GenerateAsymmetricKey = 0x46,
  /** SIGN PKCS1: RSA PKCS#1 v1.5 signature. */
  SignPkcs1 = 0x47,
  /** LIST OBJECTS: ids, types and sequences of objects, with optional filters. */
  ListObjects = 0x48,
  /** DECRYPT PKCS1: RSA PKCS#1 v1.5 decryption. */
  DecryptPkcs1 = 0x49,
  /** EXPORT WRAPPED: export an object under a wrap key. */
  ExportWrapped = 0x4a,
  /** IMPORT WRAPPED: import an object wrapped under a wrap key. */
  ImportWrapped = 0x4b,
  /** PUT WRAP KEY: import a wrap key. */
  PutWrapKey = 0x4c,
  /** GET LOG ENTRIES: the audit log. */
  GetLogEntries = 0x4d,
  /** GET OBJECT INFO: an object's metadata. */
  GetObjectInfo = 0x4e,
  /** SET OPTION: a device option (forced audit, command audit, ...). */
  SetOption = 0x4f,
  /** GET OPTION: read a device option. */
  GetOption = 0x50,
  /** GET PSEUDO RANDOM: bytes from the device's DRBG. */
  GetPseudoRandom = 0x51,
  /** PUT HMAC KEY. */
  PutHmacKey = 0x52,
  /** SIGN HMAC. */
  SignHmac = 0x53,
  /** GET PUBLIC KEY: the public half of an asymmetric key. */
  GetPublicKey = 0x54,
  /** SIGN PSS: RSA-PSS signature. */
  SignPss = 0x55,
  /** SIGN ECDSA: ECDSA signature over a digest supplied by the host. */
  SignEcdsa = 0x56,
  /** DERIVE ECDH. */
  DeriveEcdh = 0x57,
  /** DELETE OBJECT: delete an object by id and type. */
  DeleteObject = 0x58,
  /** DECRYPT OAEP. */
  DecryptOaep = 0x59,
  /** GENERATE HMAC KEY. */
  GenerateHmacKey = 0x5a,
  /** GENERATE WRAP KEY. */
  GenerateWrapKey = 0x5b,
  /** VERIFY HMAC. */
  VerifyHmac = 0x5c,
  /** SIGN SSH CERTIFICATE. */
  SignSshCertificate = 0x5d,
  /** PUT TEMPLATE. */
  PutTemplate = 0x5e,
  /** GET TEMPLATE. */
  GetTemplate = 0x5f,
  /** DECRYPT OTP. */
  DecryptOtp = 0x60,
  /** CREATE OTP AEAD. */
  CreateOtpAead = 0x61,
  /** RANDOMIZE OTP AEAD. */
  RandomizeOtpAead = 0x62,
  /** REWRAP OTP AEAD. */
  RewrapOtpAead = 0x63,
  /** SIGN ATTESTATION CERTIFICATE: an X.509 certificate for a generated key, signed by an attestation key. */
  SignAttestationCertificate = 0x64,
  /** PUT OTP AEAD KEY. */
  PutOtpAeadKey = 0x65,
  /** GENERATE OTP AEAD KEY. */
  GenerateOtpAeadKey = 0x66,
  /** SET LOG INDEX: mark log entries as read, up to an index. */
  SetLogIndex = 0x67,
  /** WRAP DATA. */
  WrapData = 0x68,
  /** UNWRAP DATA. */
  UnwrapData = 0x69,
  /** SIGN EDDSA. */
  SignEddsa = 0x6a,
  /** BLINK DEVICE: flash the LED. */
  BlinkDevice = 0x6b,
  /** CHANGE AUTHENTICATION KEY: replace the session's own authentication key. */
  ChangeAuthenticationKey = 0x6c,
  /** PUT SYMMETRIC KEY. */
  PutSymmetricKey = 0x6d,
  /** GENERATE SYMMETRIC KEY. */
  GenerateSymmetricKey = 0x6e,
  /** DECRYPT ECB. */
  DecryptEcb = 0x6f,
  /** ENCRYPT ECB. */
  EncryptEcb = 0x70,
  /** DECRYPT CBC. */
  DecryptCbc = 0x71,
  /** ENCRYPT CBC. */
  EncryptCbc = 0x72,
  /** ERROR: the response code of a failed command; its one data byte is a DeviceError. */
  Error = 0x7f,
}

/** The bit a response sets on the command code it answers. */
export const RESPONSE_FLAG = 0x80;

const NAMES: Readonly<Record<number, string>> = {
  [Command.Echo]: 'ECHO',
  [Command.CreateSession]: 'CREATE SESSION',
  [Command.AuthenticateSession]: 'AUTHENTICATE SESSION',
  [Command.SessionMessage]: 'SESSION MESSAGE',
  [Command.GetDeviceInfo]: 'GET DEVICE INFO',
  [Command.ResetDevice]: 'RESET DEVICE',
  [Command.GetDevicePublicKey]: 'GET DEVICE PUBLIC KEY',
  [Command.CloseSession]: 'CLOSE SESSION',
  [Command.GetStorageInfo]: 'GET STORAGE INFO',
  [Command.PutOpaque]: 'PUT OPAQUE',
  [Command.GetOpaque]: 'GET OPAQUE',
  [Command.PutAuthenticationKey]: 'PUT AUTHENTICATION KEY',
  [Command.PutAsymmetricKey]: 'PUT ASYMMETRIC KEY',
  [Command.GenerateAsymmetricKey]: 'GENERATE ASYMMETRIC KEY',
  [Command.SignPkcs1]: 'SIGN PKCS1',
  [Command.ListObjects]: 'LIST OBJECTS',
  [Command.DecryptPkcs1]: 'DECRYPT PKCS1',
  [Command.ExportWrapped]: 'EXPORT WRAPPED',
  [Command.ImportWrapped]: 'IMPORT WRAPPED',
  [Command.PutWrapKey]: 'PUT WRAP KEY',
  [Command.GetLogEntries]: 'GET LOG ENTRIES',
  [Command.GetObjectInfo]: 'GET OBJECT INFO',
  [Command.SetOption]: 'SET OPTION',
  [Command.GetOption]: 'GET OPTION',
  [Command.GetPseudoRandom]: 'GET PSEUDO RANDOM',
  [Command.PutHmacKey]: 'PUT HMAC KEY',
  [Command.SignHmac]: 'SIGN HMAC',
  [Command.GetPublicKey]: 'GET PUBLIC KEY',
  [Command.SignPss]: 'SIGN PSS',
  [Command.SignEcdsa]: 'SIGN ECDSA',
  [Command.DeriveEcdh]: 'DERIVE ECDH',
  [Command.DeleteObject]: 'DELETE OBJECT',
  [Command.DecryptOaep]: 'DECRYPT OAEP',
  [Command.GenerateHmacKey]: 'GENERATE HMAC KEY',
  [Command.GenerateWrapKey]: 'GENERATE WRAP KEY',
  [Command.VerifyHmac]: 'VERIFY HMAC',
  [Command.SignSshCertificate]: 'SIGN SSH CERTIFICATE',
  [Command.PutTemplate]: 'PUT TEMPLATE',
  [Command.GetTemplate]: 'GET TEMPLATE',
  [Command.DecryptOtp]: 'DECRYPT OTP',
  [Command.CreateOtpAead]: 'CREATE OTP AEAD',
  [Command.RandomizeOtpAead]: 'RANDOMIZE OTP AEAD',
  [Command.RewrapOtpAead]: 'REWRAP OTP AEAD',
  [Command.SignAttestationCertificate]: 'SIGN ATTESTATION CERTIFICATE',
  [Command.PutOtpAeadKey]: 'PUT OTP AEAD KEY',
  [Command.GenerateOtpAeadKey]: 'GENERATE OTP AEAD KEY',
  [Command.SetLogIndex]: 'SET LOG INDEX',
  [Command.WrapData]: 'WRAP DATA',
  [Command.UnwrapData]: 'UNWRAP DATA',
  [Command.SignEddsa]: 'SIGN EDDSA',
  [Command.BlinkDevice]: 'BLINK DEVICE',
  [Command.ChangeAuthenticationKey]: 'CHANGE AUTHENTICATION KEY',
  [Command.PutSymmetricKey]: 'PUT SYMMETRIC KEY',
  [Command.GenerateSymmetricKey]: 'GENERATE SYMMETRIC KEY',
  [Command.DecryptEcb]: 'DECRYPT ECB',
  [Command.EncryptEcb]: 'ENCRYPT ECB',
  [Command.DecryptCbc]: 'DECRYPT CBC',
  [Command.EncryptCbc]: 'ENCRYPT CBC',
  [Command.Error]: 'ERROR',
};

/** Yubico's name for a command code (as the command reference spells it), or its hex for unknown codes. */
export function commandName(code: number): string {
  return NAMES[code] ?? `command 0x${code.toString(16).padStart(2, '0')}`;
}
