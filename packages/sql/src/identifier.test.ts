import { describe, expect, it } from 'vitest';
import { qualifiedName, quoteIdentifier } from './identifier.js';
import { SqlError } from './sql-error.js';

describe('quoteIdentifier', () => {
  it('quotes plain identifiers', () => {
    expect(quoteIdentifier('public')).toBe('"public"');
    expect(quoteIdentifier('App_Usage2')).toBe('"App_Usage2"');
    expect(qualifiedName('analytics', 'ai_usage_log')).toBe('"analytics"."ai_usage_log"');
  });

  it.each(['', '1abc', 'a-b', 'a;drop table x', 'a"b', 'x'.repeat(64), 'pg_catalog', 'PG_temp', 'tëst'])('rejects %j', (name) => {
    let caught: unknown;
    try {
      quoteIdentifier(name, 'schema');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(SqlError);
    expect((caught as SqlError).code).toBe('invalid_identifier');
    expect((caught as SqlError).message).toMatch(/^schema /);
  });

  it('rejects non-strings', () => {
    expect(() => quoteIdentifier(undefined, 'table')).toThrow(/table must be/);
    expect(() => quoteIdentifier(42 as unknown as string)).toThrow(SqlError);
  });
});
