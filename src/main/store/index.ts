export { Store, BootstrapUnderWayError, type RecoveryReport, type StoreOptions, type StoreDiagnostics, type ExchangeRecord, type Changes, type DeviceUpsert, type CommitResult, type ExchangeQuery, type PurgeOptions, type PurgeResult } from './store';
export { MIGRATIONS, migrate } from './migrations';
export { JobTables, MAX_ATTEMPTS, PENDING_STATES, RETURN_LIMITS, type ReturnLimits, type NewJob, type JobChange, type JobQuery, type PendingDevice } from './jobs';
export { EXTERNAL_CHECK_MS, type StoreChange, type ChangeListener } from './change-feed';
export type { Revocation } from './revocations';
export { NO_PENDING_JOBS } from './job-queries';
export { MAX_CONTACT_FAILURES, type ContactFailureResult } from './contact-failures';
export { acquireServiceLock, type ServiceLock } from './service-lock';
export type { InteractionWithCounts, ItemChangeInContext } from './inspector-queries';
