export { Store, type RecoveryReport, type StoreOptions, type ExchangeRecord, type Changes, type DeviceUpsert, type CommitResult, type ExchangeQuery, type PurgeOptions, type PurgeResult } from './store';
export { MIGRATIONS, migrate } from './migrations';
export { JobTables, MAX_ATTEMPTS, PENDING_STATES, RETURN_LIMITS, type ReturnLimits, type NewJob, type JobChange, type JobQuery, type PendingDevice } from './jobs';
