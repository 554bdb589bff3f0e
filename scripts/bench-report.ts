import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const FILE = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'BENCHMARKS.md');
const HEADER = `# Benchmarks

Every number here was written by \`pnpm bench\` (each package's \`bench\` script rewrites its own
section between the markers). Re-run it to refresh; numbers vary with the machine.
`;

/** Formats rows as a Markdown table. */
export function markdownTable(columns: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map(String).join(' | ')} |`;
  return [line(columns), line(columns.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Prints a table to stdout in aligned columns. */
export function printTable(columns: string[], rows: (string | number)[][]): void {
  const all = [columns, ...rows.map((r) => r.map(String))];
  const widths = columns.map((_, i) => Math.max(...all.map((r) => String(r[i] ?? '').length)));
  for (const r of all) console.log(r.map((c, i) => String(c).padEnd(widths[i] ?? 0)).join('  '));
}

/** A one-line description of the machine the numbers came from. */
export function machineLine(): string {
  return `Node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${os.platform()} ${os.arch()}, ${new Date().toISOString().slice(0, 10)}`;
}

/** Replaces (or appends) the section named `name` in docs/BENCHMARKS.md. */
export function writeBenchSection(name: string, markdown: string): void {
  mkdirSync(dirname(FILE), { recursive: true });
  let doc = existsSync(FILE) ? readFileSync(FILE, 'utf8') : HEADER;
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const re = new RegExp(`${start}[\\s\\S]*?${end}`);
  doc = re.test(doc) ? doc.replace(re, block) : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(FILE, doc);
}
