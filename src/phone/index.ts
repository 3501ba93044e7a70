/**
 * The phone simulator: its own WPI codec, items (state), transport (HTTPS client), phone
 * (interaction loop), deployment (file/firmware), contact-me listener, DCMP poller, Secure Mode
 * (bootstrapping, secure-mode-data, state files, PIN sheets), phone runtime (a started phone),
 * fleet, CLI.
 */
export * from './codec';
export * from './items';
export * from './transport';
export * from './phone';
export * from './deployment';
export * from './contact-me-listener';
export * from './dcmp-poller';
export * from './secure-mode';
export { loadSecureState, saveSecureState, clearSecureState, stateFilePath } from './secure-state';
export { parsePinSheet, pinProblem, PIN_PATTERN } from './pin-sheet';
export { DEFAULT_CONTACT_GAP_MS, DEFAULT_POLL_INTERVAL_MS, DEFAULT_REBOOT_MS } from './phone-runtime';
export * from './fleet';
export { phoneMain, PHONE_HELP, type PhoneMainOptions } from './cli';
