export { InteractionEngine, type EngineInput, type EngineOutput } from './engine';
export { decide, ProtocolError, normalizeMac, type Decision } from './decide';
export { SessionTable, sessionIdFromCookies, sessionCookie, SESSION_COOKIE, type Session } from './session';
