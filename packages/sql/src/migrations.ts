import { createHash } from 'node:crypto';
import { embeddedMigrations } from './migrations.generated.js';

/** One numbered, forward-only migration as shipped in `migrations/NNNNNN_name.sql`. */
export interface Migration {
  /** File name without `.sql`, e.g. `000001_initial_schema`; applied in this order. */
  readonly id: string;
  /** The SQL script. Names are unqualified: the runner sets search_path to the target schema. */
  readonly sql: string;
}

/** Every migration this version of the package ships, in the order they apply. */
export const migrations: readonly Migration[] = Object.freeze(embeddedMigrations.map((m) => Object.freeze({ id: m.id, sql: m.sql })));

/** SHA-256 (hex) of a migration's SQL with line endings normalised, so a CRLF checkout is not an "edit". */
export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}
