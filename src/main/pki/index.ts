/** Public API of the PKI module (docs/pki.md, docs/secure-mode-data.md). */
export {
  type KeyProtector,
  type KdfFile,
  type PassphraseProtectorOptions,
  type ProtectorSource,
  type OsKeyring,
  KEY_PASSPHRASE_ENV,
  KEY_PASSPHRASE_FILE_ENV,
  passphraseProtector,
  protectorFromEnvironment,
  readPassphraseFile,
  osKeyringProtector,
  sealedFormat,
} from './key-protector';
export {
  Pki,
  type PkiOptions,
  type DeviceCredential,
  type DeviceIdentity,
  type ServerNames,
  type SecureServerIdentity,
  type CaSummary,
  type BulkIssueOptions,
  normalizeNames,
  listPkiFiles,
} from './pki';
export {
  DEFAULT_KEY_POOL_SIZE,
  KEY_POOL_IDLE_ENV,
  KEY_POOL_SIZE_ENV,
  MAX_KEY_POOL_SIZE,
  KeyPool,
  type KeyPoolFiller,
  type KeyPoolFillerOptions,
  keyPoolIdleMsFromEnvironment,
  keyPoolSizeFromEnvironment,
  startKeyPoolFiller,
} from './key-pool';
export { type CaMaterial, checkCa, readCaImport } from './ca';
export { canonicalMac, parseMac, macFileStem, macUrn, normalizeSerial } from './identifiers';
export {
  DLS_CLIENT_CERTIFICATE_PASSWORD,
  type Pkcs12KeyAlgorithm,
  type Pkcs12Options,
  toPkcs12Der,
  toPkcs12Base64,
  dlsClientCertificate,
  fromPkcs12Der,
} from './pkcs12';
export {
  type SecureModeDataContents,
  type SecureModeDataFormat,
  type SecureModeDataErrorCode,
  type PackOptions,
  SecureModeDataError,
  DEFAULT_SECURE_MODE_DATA_FORMAT,
  LOCALDLS_1_DEFAULT_ITERATIONS,
  packSecureModeData,
  unpackSecureModeData,
  buildSecureModeData,
  buildSecureModeDataAsync,
  buildKeyedSecureModeDataAsync,
  retargetSecureModeData,
  registerSecureModeDataFormat,
  secureModeDataFormats,
  localDls1Keys,
} from './secure-mode-data';
export { PIN_MIN_DIGITS, PIN_MAX_DIGITS, TAN_LENGTH, DEFAULT_PIN_DIGITS, generatePin, validatePin, isValidPin, tanOf, pinPassword } from './pin';
export { type TlsIdentity, loadOrCreateDefaultIdentity, createSelfSigned, randomSerial } from './server-identity';
