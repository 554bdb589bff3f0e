import { SqlError } from './sql-error.js';

// Letters, digits and underscores, not starting with a digit, at most 63 bytes (NAMEDATALEN - 1).
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Checks that `name` is a plain SQL identifier (letters, digits, underscore; not starting
 * with a digit; at most 63 characters; not a `pg_` system name) and returns it double-quoted
 * for use in SQL text. `what` names the option in the error ("schema", "table").
 */
export function quoteIdentifier(name: unknown, what = 'identifier'): string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw new SqlError(
      'invalid_identifier',
      `${what} must be 1-63 letters, digits or underscores, not starting with a digit; got ${JSON.stringify(typeof name === 'string' ? name.slice(0, 80) : name)}`,
    );
  }
  if (/^pg_/i.test(name)) throw new SqlError('invalid_identifier', `${what} "${name}" is reserved: names starting with pg_ belong to the system`);
  return `"${name}"`;
}

/** `"schema"."name"`, both validated. */
export function qualifiedName(schema: string, name: string, what = 'table'): string {
  return `${quoteIdentifier(schema, 'schema')}.${quoteIdentifier(name, what)}`;
}
