// Writes schema.sql: the canonical dump of a freshly migrated schema (PGlite in-process, so
// no server is needed and the text never depends on what a server already holds).
// Usage: pnpm --filter @korean-together/sql schema:dump
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderSchemaSql } from '../src/schema-sql.js';

const target = fileURLToPath(new URL('../schema.sql', import.meta.url));
writeFileSync(target, await renderSchemaSql());
console.log('wrote schema.sql');
