import { quoteIdentifier } from './identifier.js';
import { withTransaction, type ConnectOptions } from './sql-client.js';

export interface DumpSchemaOptions extends ConnectOptions {
  /** Schema to describe. Default `public`. */
  schema?: string;
}

interface RelRow {
  oid: number;
  relname: string;
  relkind: string;
  comment: string | null;
}

/**
 * A canonical, deterministic description of a schema's tables, constraints, indexes, views,
 * functions and comments, as SQL. Built from the catalogs (not pg_dump) so the text is the same
 * on a Postgres server and on PGlite, and does not name the schema: two installs compare equal.
 * Partitions are left out (their set depends on the day the schema was migrated); a partitioned
 * table shows its PARTITION BY clause. Functions are listed by signature and attributes, not body
 * (the migrations hold the bodies). `schema.sql` in this package is this dump of a freshly
 * migrated schema.
 */
export async function dumpSchema(options: DumpSchemaOptions): Promise<string> {
  const schema = options.schema ?? 'public';
  const qSchema = quoteIdentifier(schema, 'schema');
  return withTransaction(options, async (tx) => {
    // Unqualified names in every pg_get_*def below.
    await tx.exec(`SET LOCAL search_path TO ${qSchema}`);
    const rels = await tx.query<RelRow>(
      `SELECT c.oid::int AS oid, c.relname, c.relkind::text AS relkind, obj_description(c.oid, 'pg_class') AS comment
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
        ORDER BY c.relkind NOT IN ('r', 'p'), c.relname COLLATE "C"`,
      [schema],
    );
    const out: string[] = [];
    const comments: string[] = [];
    const stripSchema = (s: string) => s.split(`${qSchema}.`).join('').split(`${schema}.`).join('');
    for (const rel of rels) {
      const name = ident(rel.relname);
      if (rel.comment) comments.push(`COMMENT ON ${rel.relkind === 'r' || rel.relkind === 'p' ? 'TABLE' : 'VIEW'} ${name} IS ${literal(rel.comment)};`);
      if (rel.relkind === 'v' || rel.relkind === 'm') {
        const [def] = await tx.query<{ def: string }>('SELECT pg_get_viewdef($1::oid, true) AS def', [rel.oid]);
        const kw = rel.relkind === 'm' ? 'MATERIALIZED VIEW' : 'VIEW';
        out.push(`CREATE ${kw} ${name} AS\n${stripSchema(def!.def).trimEnd()}\n`);
        continue;
      }
      const cols = await tx.query<{ attname: string; type: string; notnull: boolean; def: string | null; comment: string | null }>(
        `SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
                pg_get_expr(d.adbin, d.adrelid) AS def, col_description(a.attrelid, a.attnum) AS comment
           FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
          ORDER BY a.attnum`,
        [rel.oid],
      );
      // Not-null constraints are listed on the columns (Postgres 18 also keeps them in pg_constraint).
      const cons = await tx.query<{ conname: string; def: string }>(
        `SELECT conname, pg_get_constraintdef(oid, true) AS def FROM pg_constraint
          WHERE conrelid = $1::oid AND contype IN ('p', 'u', 'f', 'c', 'x')
          ORDER BY conname COLLATE "C"`,
        [rel.oid],
      );
      const lines = cols.map((c) => `    ${ident(c.attname)} ${c.type}${c.def ? ` DEFAULT ${stripSchema(c.def)}` : ''}${c.notnull ? ' NOT NULL' : ''}`);
      for (const c of cons) lines.push(`    CONSTRAINT ${ident(c.conname)} ${stripSchema(c.def)}`);
      const partitioned = rel.relkind === 'p' ? (await tx.query<{ key: string }>('SELECT pg_get_partkeydef($1::oid) AS key', [rel.oid]))[0]?.key : undefined;
      out.push(`CREATE TABLE ${name} (\n${lines.join(',\n')}\n)${partitioned ? ` PARTITION BY ${partitioned}` : ''};\n`);
      for (const c of cols) if (c.comment) comments.push(`COMMENT ON COLUMN ${name}.${ident(c.attname)} IS ${literal(c.comment)};`);
      const idx = await tx.query<{ def: string }>(
        `SELECT pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
          WHERE i.indrelid = $1::oid AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid)
          ORDER BY ic.relname COLLATE "C"`,
        [rel.oid],
      );
      for (const i of idx) out.push(`${stripSchema(i.def)};`);
      if (idx.length) out.push('');
    }
    const fns = await tx.query<{ oid: number; kind: string; name: string; args: string; result: string | null; lang: string; volatility: string; definer: boolean; comment: string | null }>(
      `SELECT p.oid::int AS oid, p.prokind::text AS kind, p.proname AS name, pg_get_function_identity_arguments(p.oid) AS args,
              pg_get_function_result(p.oid) AS result, l.lanname AS lang, p.provolatile::text AS volatility, p.prosecdef AS definer,
              obj_description(p.oid, 'pg_proc') AS comment
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
        WHERE n.nspname = $1 AND p.prokind IN ('f', 'a')
        ORDER BY p.proname COLLATE "C", pg_get_function_identity_arguments(p.oid) COLLATE "C"`,
      [schema],
    );
    for (const f of fns) {
      const sig = `${ident(f.name)}(${stripSchema(f.args)})`;
      if (f.kind === 'a') out.push(`CREATE AGGREGATE ${sig};`);
      else {
        const vol = f.volatility === 'i' ? ' IMMUTABLE' : f.volatility === 's' ? ' STABLE' : '';
        out.push(`CREATE FUNCTION ${sig} RETURNS ${stripSchema(f.result ?? 'void')} LANGUAGE ${f.lang}${vol}${f.definer ? ' SECURITY DEFINER' : ''};`);
      }
      if (f.comment) comments.push(`COMMENT ON ${f.kind === 'a' ? 'AGGREGATE' : 'FUNCTION'} ${sig} IS ${literal(f.comment)};`);
    }
    if (fns.length) out.push('');
    if (comments.length) out.push(comments.join('\n'), '');
    return out.join('\n');
  });
}

// Quote only when needed, like the catalogs' own output.
function ident(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
