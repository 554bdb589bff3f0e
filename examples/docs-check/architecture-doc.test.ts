// docs/ARCHITECTURE.md names files by short paths (`engine/walk.ts`, `record-queue.ts`,
// `core/src/budget/`): each must still name a file or folder of the workspace, so a rename that
// leaves the map behind fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const doc = readFileSync(join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');

/** Every file and folder under `dir`, as repository paths ('packages/core/src/call.ts', 'packages/core/src/engine/'). */
function entries(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      out.push(`${relative(ROOT, join(ROOT, path))}/`);
      entries(path, out);
    } else out.push(relative(ROOT, join(ROOT, path)));
  }
  return out;
}

const workspace = ['packages', 'test-support', 'examples', 'docs'].flatMap((top) => [`${top}/`, ...entries(top)]).map((p) => `/${p}`);

describe('docs/ARCHITECTURE.md', () => {
  it('names only files and folders that exist', () => {
    // Backticked names that look like a path: a file with an extension, or a folder ending in '/'.
    const named = [...doc.matchAll(/`([\w./-]+(?:\.(?:ts|sql|md)|\/))`/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(60);
    const missing = named.filter((name) => !workspace.some((p) => p.endsWith(`/${name}`)));
    expect(missing).toEqual([]);
  });

  it('stays short', () => {
    expect(doc.split('\n').length).toBeLessThanOrEqual(180);
  });
});
