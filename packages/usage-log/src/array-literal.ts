// Postgres array literals (`{a,b,NULL}`) built straight from a batch's values. node-postgres
// turns a JS array parameter into the same text, but quotes and escapes every element with two
// regular expressions through a generic per-element path: for a 1,000-row batch of 22 columns
// that was the largest single cost of the sink's own CPU (docs/BENCHMARKS.md,
// usage-log-sink-parts). The server parses either text the same way.

/** A column of values that never need quoting: numbers, booleans, UUIDs, ISO timestamps, decimals. */
export function plainArrayLiteral(values: readonly (string | number | boolean | null | undefined)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ',';
    out += v === null || v === undefined ? 'NULL' : v === true ? 't' : v === false ? 'f' : String(v);
  }
  return `${out}}`;
}

const NEEDS_ESCAPE = /["\\]/;

/** A column of text: every element double-quoted (so `NULL`, empty text, commas, braces and spaces stay text), `"` and `\` escaped. */
export function textArrayLiteral(values: readonly (string | null | undefined)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ',';
    if (v === null || v === undefined) out += 'NULL';
    else out += `"${NEEDS_ESCAPE.test(v) ? v.replace(/["\\]/g, '\\$&') : v}"`;
  }
  return `${out}}`;
}
