#!/usr/bin/env node
// After `pnpm build`: every package's built entry loads in both module systems and exports
// the names the README and DESIGN contract promise.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const contract = {
  core: {
    '.': ['definePolicy', 'defaultPolicy', 'loadPolicy', 'createAiClient', 'AiError', 'isAiError'],
    './provider-kit': ['httpError', 'classifyProviderError', 'safeProviderText', 'validateSttRequest', 'validateTtsRequest', 'validateEvalRequest', 'audioDurationMs', 'evalSystemInstruction'],
    './testing': ['fakeEval', 'fakeStt', 'fakeTts', 'ArraySink', 'FakeClock'],
    './redis': ['createRedisBudgetStore', 'createRedisRateLimits'],
  },
  providers: { '.': ['geminiEvaluator', 'googleStt', 'googleTts', 'whisperStt', 'httpTts'], './emulators': ['startEmulators'] },
  'usage-log': { '.': ['createPostgresSink', 'createPgliteSink', 'createJsonlSink', 'createMemorySink', 'writeSessionEvent', 'createPostgresBudgetStore'] },
  sql: { '.': ['migrate', 'migrations'] },
};
let failures = 0;
for (const [pkg, subs] of Object.entries(contract)) {
  const dir = join(root, 'packages', pkg);
  const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const [sub, names] of Object.entries(subs)) {
    const entry = pj.exports?.[sub];
    if (!entry) {
      console.log(`@korean-together/${pkg}${sub.slice(1)}: no export`);
      failures++;
      continue;
    }
    for (const [kind, load] of [
      ['import', async (f) => import(pathToFileURL(join(dir, f)).href)],
      ['require', async (f) => require(join(dir, f))],
    ]) {
      const file = entry[kind]?.default;
      try {
        const mod = await load(file);
        const missing = names.filter((n) => !(n in mod));
        if (missing.length) {
          console.log(`@korean-together/${pkg}${sub.slice(1)} (${kind}): missing ${missing.join(', ')}`);
          failures++;
        }
      } catch (e) {
        console.log(`@korean-together/${pkg}${sub.slice(1)} (${kind}): fails to load: ${e.message}`);
        failures++;
      }
    }
  }
}
console.log(failures ? `${failures} contract problem(s)` : 'contract: every package loads (ESM and CJS) and exports its public names');
process.exit(failures ? 1 : 0);
