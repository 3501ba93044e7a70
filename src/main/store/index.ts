export { Store, type StoreOptions, type ExchangeRecord, type Changes, type DeviceUpsert, type CommitResult, type ExchangeQuery } from './store';
export { MIGRATIONS, migrate } from './migrations';
