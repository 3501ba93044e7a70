export { InteractionEngine, type EngineInput, type EngineOutput, type EngineLookups } from './engine';
export { decide, isPinBootstrap, jobsAhead, newInteraction, ProtocolError, normalizeMac, type Decision, type InteractionState, type ActiveJob } from './decide';
export { SessionTable, sessionIdFromCookies, sessionCookie, SESSION_COOKIE, type Session } from './session';
export { profileDiff, effectiveItems, matchProfile, globMatch } from './profiles';
export { jobMessage, jobMessages, bootstrapMessage, REBOOTING_KINDS, AWAITING_RETURN, FACTORY_RESET_PASSWORD, type JobSecret, type BootstrapSend } from './job-messages';
export { supportsSendSolicited, phoneVersionOf, parseSoftwareVersion } from './firmware';
