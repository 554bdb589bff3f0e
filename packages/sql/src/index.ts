// Every public export of @korean-together/sql, by name.
export { migrate, migrationStatus, MIGRATIONS_TABLE } from './migrate.js';
export type { MigrateOptions, MigrateResult, MigrationState, MigrationStatus } from './migrate.js';
export { migrations, migrationChecksum } from './migrations.js';
export type { Migration } from './migrations.js';
export { dumpSchema } from './dump-schema.js';
export type { DumpSchemaOptions } from './dump-schema.js';
export { quoteIdentifier, qualifiedName } from './identifier.js';
export { SqlError } from './sql-error.js';
export type { SqlErrorCode } from './sql-error.js';
export type { SqlClient, ConnectOptions, PgClientLike, PgPoolLike, PgliteLike, PgliteTransactionLike } from './sql-client.js';
