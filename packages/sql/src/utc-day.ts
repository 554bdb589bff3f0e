import { SqlError } from './sql-error.js';

const DAY_MS = 86_400_000;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A UTC calendar day as 'YYYY-MM-DD'. */
export type UtcDay = string;

/** The UTC day of `date`. */
export function utcDay(date: Date): UtcDay {
  return date.toISOString().slice(0, 10);
}

/** `day` plus `n` days (n may be negative). */
export function addDays(day: UtcDay, n: number): UtcDay {
  return utcDay(new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS));
}

/** Whole days from `a` to `b` (b - a). */
export function daysBetween(a: UtcDay, b: UtcDay): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY_MS);
}

/** Every day from `from` (included) to `to` (excluded). */
export function dayRange(from: UtcDay, to: UtcDay): UtcDay[] {
  const out: UtcDay[] = [];
  for (let d = from; d < to; d = addDays(d, 1)) out.push(d);
  return out;
}

/**
 * Reads a day option: a 'YYYY-MM-DD' string (a real calendar day) or a Date (its UTC day).
 * Throws SqlError `invalid_option` naming `what` otherwise.
 */
export function parseDay(value: unknown, what: string): UtcDay {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new SqlError('invalid_option', `${what} is an invalid Date`);
    return utcDay(value);
  }
  if (typeof value === 'string' && DAY.test(value)) {
    const t = Date.parse(`${value}T00:00:00Z`);
    if (!Number.isNaN(t) && utcDay(new Date(t)) === value) return value;
  }
  throw new SqlError('invalid_option', `${what} must be a UTC day as YYYY-MM-DD or a Date; got ${JSON.stringify(typeof value === 'string' ? value.slice(0, 40) : typeof value)}`);
}

/** Reads a whole-number option in [min, max]; throws SqlError `invalid_option` naming `what` otherwise. */
export function parseCount(value: unknown, what: string, min: number, max: number): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new SqlError('invalid_option', `${what} must be a whole number from ${min} to ${max}; got ${JSON.stringify(value)}`);
  }
  return n;
}
