/** The phone simulator: items (state), transport (HTTPS client), phone (interaction loop), fleet, CLI. */
export * from './items';
export * from './transport';
export * from './phone';
export * from './fleet';
export { phoneMain, PHONE_HELP } from './cli';
