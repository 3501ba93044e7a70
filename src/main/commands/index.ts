/**
 * Every user action, once. The CLI (src/main/cli), the Electron IPC bridge and the web UI's
 * WebSocket bridge (src/main/bridge) only parse and print or serialise; they call these.
 */
export type { CommandContext, SecureParts } from './context';
export { defineCommand, type Command } from './define';
export { addJob, cancelJob, listJobs } from './jobs';
export { applyProfile, clearOverrides, deleteProfile, getOverrides, getProfile, listProfiles, setOverrides, setProfile } from './profiles';
export { deviceItems, getDevice, listDevices, revealDeviceItem } from './devices';
export { clearView, exportExchanges, exportTraffic, getExchange, listExchanges, purgeTraffic, recentTraffic, revealExchangeItem, EXPORT_LIMIT, VIEW_TEXT_LIMIT } from './traffic';
export { bootstrap, bootstrapCandidates, bootstrapPinSheet, bootstrapStatus, bootstrapsUnderWay, forgetBootstrap, pendingPinSheet, serviceRunning, getBootstrapRun, startBootstrap, undoBootstrap, type BootstrapStatusRow } from './bootstrap';
export { contactNow, devicesWithWaitingJobs } from './contact';
export { exportCaCertificate, getSecureStatus, importCa, keyPoolStatus, showCa } from './ca';

export { setUpstream, upstreamSetting } from './relay-setting';
export { keptWhileRelaying } from './relay-guard';
export { setTlsKeyLog, setTlsProfile } from './settings';
export { getDeviceTimeline, getInteraction } from './inspector';
export { getRollout, listRollouts, retryFailed } from './rollouts';
export { maskJob, maskProfile, jobSummary, shortValue } from './masking';
export { BootstrapRuns } from './bootstrap-runs';
export { cancelBootstrapRun } from './bootstrap';
