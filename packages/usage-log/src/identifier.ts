import { AiError } from '@korean-together/core';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Validates a schema or table name (letters, digits, underscore; not starting with a digit; at
 * most 63 characters; no `pg_` prefix) and returns it double-quoted. Throws AiError
 * `invalid_config` naming the option.
 */
export function quoteIdentifier(name: unknown, option: string): string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name) || /^pg_/i.test(name)) {
    throw new AiError(
      'invalid_config',
      `usage-log: ${option} must be 1-63 letters, digits or underscores, not starting with a digit or pg_; got ${JSON.stringify(typeof name === 'string' ? name.slice(0, 80) : name)}`,
      { retryable: false },
    );
  }
  return `"${name}"`;
}
