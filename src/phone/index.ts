/**
 * The phone simulator: items (state), transport (HTTPS client), phone (interaction loop),
 * deployment (file/firmware), contact-me listener, DCMP poller, phone runtime (a started phone),
 * fleet, CLI.
 */
export * from './items';
export * from './transport';
export * from './phone';
export * from './deployment';
export * from './contact-me-listener';
export * from './dcmp-poller';
export { DEFAULT_CONTACT_GAP_MS, DEFAULT_POLL_INTERVAL_MS, DEFAULT_REBOOT_MS } from './phone-runtime';
export * from './fleet';
export { phoneMain, PHONE_HELP, type PhoneMainOptions } from './cli';
