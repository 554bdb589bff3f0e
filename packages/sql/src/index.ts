// Every public export of @korean-together/sql, by name.
export { migrate, migrationStatus, MIGRATIONS_TABLE } from './migrate.js';
export type { MigrateOptions, MigrateResult, MigrationState, MigrationStatus } from './migrate.js';
export { migrations, migrationChecksum } from './migrations.js';
export type { Migration } from './migrations.js';
export { dumpSchema } from './dump-schema.js';
export type { DumpSchemaOptions } from './dump-schema.js';
export { ensurePartitions, listPartitions, PARTITIONED_TABLES, DEFAULT_DAYS_AHEAD } from './partitions.js';
export type { EnsurePartitionsOptions, EnsurePartitionsResult, PartitionInfo, PartitionOptions, PartitionedTable } from './partitions.js';
export { applyRetention } from './retention.js';
export type { RetentionOptions, RetentionResult } from './retention.js';
export { reconcile } from './reconcile.js';
export type { ReconcileOptions, ReconcileReport, RollupDifference, RollupTable } from './reconcile.js';
export { LATENCY_BUCKET_UPPERS_MS, latencyQuantile } from './latency-histogram.js';
export { quoteIdentifier, qualifiedName } from './identifier.js';
export { SqlError } from './sql-error.js';
export type { SqlErrorCode } from './sql-error.js';
export type { SqlClient, ConnectOptions, PgClientLike, PgPoolLike, PgliteLike, PgliteTransactionLike } from './sql-client.js';
