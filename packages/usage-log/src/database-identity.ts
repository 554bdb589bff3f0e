import { classifyFailure } from './statement-failure.js';

/**
 * What the server says it is: the cluster's system identifier (made by initdb, kept by
 * physical replicas, so a failover to a promoted standby is the same database, and the same
 * however its host is spelled) and the database name. Both PostgreSQL and PGlite answer it.
 */
const IDENTITY_SQL = 'SELECT system_identifier::text AS system_identifier, current_database() AS database FROM pg_control_system()';

/**
 * The destination's identity as the database reports it, with the table:
 * `db:<system identifier>/<database>:<schema>.<table>`. Resolves to undefined when the server
 * answers but will not tell (pg_control_system() revoked or missing on a managed service):
 * nothing else it says is both stable across restarts and different between servers (its own
 * address is a proxy's behind a pooler, its start time changes at every restart), so the
 * configured address then decides, as before. Rejects when the database cannot be reached.
 */
export async function databaseIdentity(query: (text: string) => Promise<readonly unknown[] | undefined>, schema: string, table: string): Promise<string | undefined> {
  let rows: readonly unknown[] | undefined;
  try {
    rows = await query(IDENTITY_SQL);
  } catch (err) {
    if (classifyFailure(err) === 'answered') return undefined;
    throw err;
  }
  const r = rows?.[0] as { system_identifier?: unknown; database?: unknown } | undefined;
  if (typeof r?.system_identifier !== 'string' || r.system_identifier === '' || typeof r.database !== 'string') return undefined;
  return `db:${r.system_identifier}/${encodeURIComponent(r.database)}:${schema}.${table}`;
}
