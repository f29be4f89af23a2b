/**
 * The simulated YubiHSM 2: a device with real cryptography and the device's
 * rules, reachable in process (`transmit`) or through the connector HTTP API.
 */
export {
  SimulatedYubiHsm,
  DEFAULT_FIRMWARE,
  DEFAULT_REBOOT_MS,
  DEFAULT_SERIAL,
  DEVICE_ALGORITHMS,
  FACTORY_AUTH_KEY_ID,
  FACTORY_AUTH_KEY_LABEL,
  FACTORY_PASSWORD,
  SIMULATED_ALGORITHMS,
  type FaultHooks,
  type SimulatorOptions,
} from './device.ts';
export { ConnectorServer, CONNECTOR_VERSION, type ConnectorServerOptions } from './connector-server.ts';
export {
  makeDeviceIdentity,
  simulatedCa,
  simulatedCaBundlePem,
  simulatedRootPem,
  SIMULATED_CA_DIR,
  type DeviceIdentity,
  type SimulatedCa,
} from './ca.ts';
export { identityForSerial } from './identities.ts';
export { AUDITED_COMMANDS } from './device-options.ts';
export { ROOT_CA_CN, SUB_CA_CN } from './ca-names.ts';
export { SimulatorError, type SimulatorErrorCode } from './errors.ts';
export { LOG_CAPACITY, type LogEntry } from './audit-log.ts';
