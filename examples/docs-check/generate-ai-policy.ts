// Writes docs/AI_POLICY.md from the values the code runs with: `defaultPolicy` and
// `defaultPriceTable` from @korean-together/core, and the tutoring server's policy file
// (examples/server/ai-policy.json). ai-policy-doc.test.ts fails when the committed doc differs
// from what this produces, so the doc cannot drift from the code.
//
//   node --import tsx examples/docs-check/generate-ai-policy.ts          (rewrite the doc)
//   node --import tsx examples/docs-check/generate-ai-policy.ts --check  (exit 1 when stale)

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  costMicroUsd,
  defaultPolicy,
  defaultPriceTable,
  findPriceRows,
  microToUsd,
  type AiPolicy,
  type Capability,
  type CapabilityPolicy,
  type PriceRow,
  type PriceTable,
} from '@korean-together/core';
import { catalogEntry } from '../server/src/provider-catalog.js';
import { tutoringPolicy } from '../server/src/tutoring-policy.js';
import { renderSimulationSection, simulateDefaults } from './simulation-section.js';

export const AI_POLICY_DOC_PATH = fileURLToPath(new URL('../../docs/AI_POLICY.md', import.meta.url));

const CAPABILITY_TITLES: Record<Capability, string> = {
  stt: 'Speech-to-text (`stt`): hearing the learner',
  tts: 'Text-to-speech (`tts`): the tutor speaking',
  eval: 'Evaluation (`eval`): grading the answer',
};

/** 12000 -> '12 s', 250 -> '250 ms', 1500 -> '1.5 s'. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

function formatUsd(usd: number): string {
  return `$${usd.toFixed(6).replace(/0+$/, '').replace(/\.$/, '')}`;
}

const UNIT_WORDS: Record<PriceRow['unit'], string> = {
  token_in: 'input tokens',
  audio_token_in: 'audio input tokens',
  cached_token_in: 'cached input tokens',
  token_out: 'output tokens',
  audio_second: 'audio seconds',
  character: 'characters',
  request: 'requests',
};

/** '$0.30 per 1M input tokens', '$0.024 per minute of audio'. */
export function formatPrice(row: PriceRow): string {
  const usd = `$${row.usd}`;
  if (row.unit === 'audio_second' && row.per === 60) return `${usd} per minute of audio`;
  if (row.unit === 'audio_second' && row.per === 1) return `${usd} per second of audio`;
  if (row.per === 1) return `${usd} per ${UNIT_WORDS[row.unit].replace(/s$/, '')}`;
  const per = row.per === 1_000_000 ? '1M' : row.per === 1000 ? '1k' : row.per.toLocaleString('en-US');
  return `${usd} per ${per} ${UNIT_WORDS[row.unit]}`;
}

function billing(row: PriceRow): string {
  const parts: string[] = [];
  const unit = row.unit === 'audio_second' ? ' s' : ` ${UNIT_WORDS[row.unit]}`;
  parts.push(row.incrementUnits && row.incrementUnits > 1 ? `in steps of ${row.incrementUnits}${unit}` : row.unit === 'audio_second' ? 'per started second' : 'per unit');
  if (row.minimumUnits) parts.push(`minimum ${row.minimumUnits}${unit}`);
  return parts.join(', ');
}

function list(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function chainWords(capability: Capability, chain: readonly string[], table: PriceTable): string {
  if (chain.length === 0) return 'Every provider of this capability given to `createAiClient`, in the order given.';
  const steps = chain.map((key, i) => {
    const e = catalogEntry(key);
    const prices = findPriceRows(table, capability, e.modelId).map(formatPrice);
    return `${i + 1}. \`${key}\`: ${e.label}, model \`${e.modelId}\`${prices.length ? ` (${list(prices)})` : ''}`;
  });
  return ['Providers, tried in this order:', '', ...steps].join('\n');
}

/** One capability's policy in plain words. */
export function capabilityWords(capability: Capability, cap: CapabilityPolicy, table: PriceTable): string {
  const r = cap.retry;
  const b = cap.circuitBreaker;
  const lines: string[] = [chainWords(capability, cap.chain, table), ''];
  lines.push(
    `- **Deadline**: the whole call, every retry, wait and fallback included, ends within ${formatMs(cap.deadlineMs)}. ` +
      `Each attempt gets at most ${formatMs(cap.attemptTimeoutMs)}, cut to the time left before the deadline, so timeouts never add up.`,
  );
  lines.push(
    `- **Retries**: a provider gets up to ${r.maxAttempts} attempt${r.maxAttempts === 1 ? '' : 's'} (the first included), and only after a ` +
      `retryable error (timeout, rate limited, unavailable, schema violation). Between attempts it waits ${formatMs(r.initialDelayMs)}, doubling up to ` +
      `${formatMs(r.maxDelayMs)}, with jitter (half fixed, half random). When the provider asks for a wait (Retry-After, RetryInfo) ` +
      `that wait is honoured up to ${formatMs(r.maxRetryAfterMs)}; a longer ask moves on to the next provider at once. No wait ever ends past the deadline.`,
  );
  lines.push(
    `- **Fallback**: an error that retrying cannot fix (bad credentials, a rejected request) or used-up attempts move the call to the next provider in the list. ` +
      `When every provider failed, the call fails with \`exhausted\` listing every attempt.`,
  );
  lines.push(
    `- **Circuit breaker**: ${b.failureThreshold} consecutive timeouts, unavailable or rate-limited attempts open a provider's breaker; ` +
      `for ${formatMs(b.cooldownMs)} calls skip it without calling it (recorded as a skipped attempt), then one probe call decides whether it closes again.`,
  );
  const rl = cap.rateLimit;
  if (rl && (rl.maxConcurrent !== undefined || rl.perSecond !== undefined)) {
    const parts = [
      rl.maxConcurrent !== undefined ? `at most ${rl.maxConcurrent} attempts in flight` : '',
      rl.perSecond !== undefined ? `at most ${rl.perSecond} attempt starts per second` : '',
    ].filter(Boolean);
    lines.push(
      `- **Rate limit**: per provider, ${parts.join(' and ')}, in this process. An attempt waits for a slot ` +
        `${rl.maxWaitMs !== undefined ? `at most ${formatMs(rl.maxWaitMs)}` : 'at most its own timeout'}, then counts as \`rate_limited\` and the call moves on.`,
    );
  } else {
    lines.push('- **Rate limit**: none in the SDK (the provider\'s own quota answers 429, which is retried or moves on as above).');
  }
  lines.push(
    cap.hedgeAfterMs !== undefined
      ? `- **Hedging**: when a provider has not answered after ${formatMs(cap.hedgeAfterMs)}, the next provider is started beside it; the first answer wins and the other attempt is aborted (recorded as \`hedge_lost\`, with whatever it billed).`
      : '- **Hedging**: off; a slow provider is waited for until its attempt timeout.',
  );
  if ('maxTextBytes' in cap) lines.push(`- **Limits**: text up to ${(cap as AiPolicy['capabilities']['tts']).maxTextBytes.toLocaleString('en-US')} UTF-8 bytes; adapters split longer text at sentence ends to fit each provider's own limit (Google: 5,000 bytes per request).`);
  if ('passMark' in cap) {
    const e = cap as AiPolicy['capabilities']['eval'];
    lines.push(
      `- **Grading**: a score of ${e.passMark} or more passes. The model may write at most ${e.maxOutputTokens.toLocaleString('en-US')} output tokens (thinking included). ` +
        'An answer that breaks the schema (score outside 0..100, pass/fail inconsistent with the pass mark, unknown error type) is a `schema_violation`: retried, then the next model.',
    );
  }
  if (capability === 'stt') lines.push('- **Limits**: synchronous recognition takes at most 60 s or 10 MB of audio; longer audio is refused as `invalid_request` before any call.');
  return lines.join('\n');
}

function budgetWords(policy: AiPolicy): string {
  const { perSessionUsd, perDayUsd } = policy.budget;
  if (perSessionUsd === undefined && perDayUsd === undefined) return 'No budget caps: calls are never refused for cost.';
  const caps = [
    perSessionUsd !== undefined ? `${formatUsd(perSessionUsd)} per learner session` : '',
    perDayUsd !== undefined ? `${formatUsd(perDayUsd)} per UTC day (all sessions of this process or budget store)` : '',
  ].filter(Boolean);
  return (
    `Spending is capped at ${list(caps)}. Before each attempt the worst case it could bill (price x the most tokens, audio seconds or ` +
    'characters it could use) is reserved; when a cap has no room the call fails with `budget_exceeded` before any provider is called. ' +
    'After the attempt the reservation is settled to the real cost.'
  );
}

function defaultsTable(policy: AiPolicy): string {
  const caps: Capability[] = ['stt', 'tts', 'eval'];
  const c = policy.capabilities;
  const row = (name: string, unit: string, get: (cap: CapabilityPolicy) => string) => `| \`${name}\` | ${unit} | ${caps.map((k) => get(c[k])).join(' | ')} |`;
  const none = (v: number | undefined) => (v === undefined ? 'none' : String(v));
  return [
    '| option | unit | stt | tts | eval |',
    '| --- | --- | --- | --- | --- |',
    row('chain', 'provider keys', (p) => (p.chain.length ? p.chain.join(', ') : 'every provider, in order given')),
    row('deadlineMs', 'ms', (p) => String(p.deadlineMs)),
    row('attemptTimeoutMs', 'ms', (p) => String(p.attemptTimeoutMs)),
    row('retry.maxAttempts', 'attempts per provider', (p) => String(p.retry.maxAttempts)),
    row('retry.initialDelayMs', 'ms', (p) => String(p.retry.initialDelayMs)),
    row('retry.maxDelayMs', 'ms', (p) => String(p.retry.maxDelayMs)),
    row('retry.maxRetryAfterMs', 'ms', (p) => String(p.retry.maxRetryAfterMs)),
    row('circuitBreaker.failureThreshold', 'consecutive failures', (p) => String(p.circuitBreaker.failureThreshold)),
    row('circuitBreaker.cooldownMs', 'ms', (p) => String(p.circuitBreaker.cooldownMs)),
    row('rateLimit.maxConcurrent', 'attempts in flight', (p) => none(p.rateLimit?.maxConcurrent)),
    row('rateLimit.perSecond', 'attempts / s', (p) => none(p.rateLimit?.perSecond)),
    row('hedgeAfterMs', 'ms', (p) => none(p.hedgeAfterMs)),
    `| \`maxTextBytes\` | UTF-8 bytes | - | ${c.tts.maxTextBytes} | - |`,
    `| \`firstResultTimeoutMs\` (streams) | ms | ${c.stt.firstResultTimeoutMs} | - | - |`,
    `| \`firstAudioTimeoutMs\` (streams) | ms | - | ${c.tts.firstAudioTimeoutMs} | - |`,
    `| \`passMark\` | score 0..100 | - | - | ${c.eval.passMark} |`,
    `| \`maxOutputTokens\` | tokens | - | - | ${c.eval.maxOutputTokens} |`,
    `| \`budget.perSessionUsd\` | USD | ${none(policy.budget.perSessionUsd)} (one cap across all three) | | |`,
    `| \`budget.perDayUsd\` | USD | ${none(policy.budget.perDayUsd)} (one cap across all three) | | |`,
    `| \`cache.tts.ttlMs\` / \`cache.eval.ttlMs\` | ms | - | ${cacheWords(policy.cache.tts?.ttlMs)} | ${cacheWords(policy.cache.eval?.ttlMs)} |`,
    `| \`cache.tts.maxBytes\` / \`cache.eval.maxBytes\` (memory store) | bytes | - | ${policy.cache.tts ? policy.cache.tts.maxBytes : '67108864 when on'} | ${policy.cache.eval ? policy.cache.eval.maxBytes : '16777216 when on'} |`,
    `| \`cache.storeTimeoutMs\` | ms | ${policy.cache.storeTimeoutMs} (one timeout for every cache store operation) | | |`,
  ].join('\n');
}

/** A cache's TTL, or that the cache is off (the policy sets no entry for it). */
function cacheWords(ttlMs: number | undefined): string {
  return ttlMs === undefined ? 'off (no cache)' : String(ttlMs);
}

function priceTable(table: PriceTable): string {
  const lines = ['| capability | model | price | billed | source | effective |', '| --- | --- | --- | --- | --- | --- |'];
  for (const r of table.rows) lines.push(`| ${r.capability} | \`${r.model}\` | ${formatPrice(r)} | ${billing(r)} | ${r.source} | ${r.effective} |`);
  return lines.join('\n');
}

/** What one typical call of each capability uses, for the worked examples. */
const TYPICAL_CALLS: { capability: Capability; what: string; usage: Parameters<typeof costMicroUsd>[1] }[] = [
  { capability: 'stt', what: 'transcribe 4.2 s of learner audio', usage: { audioDurationMs: 4200 } },
  { capability: 'eval', what: 'grade an answer: 900 tokens in, 300 out', usage: { tokensIn: 900, tokensOut: 300 } },
  { capability: 'tts', what: 'speak a 40-character reply', usage: { characters: 40 } },
];

/**
 * Worked examples: what typical calls of the tutoring server cost with the default table, on
 * each step of the policy's chains (read from the policy, so a new fallback is priced here too).
 */
function workedExamples(table: PriceTable, policy: AiPolicy): string {
  const lines = ['| call | model | cost (USD) |', '| --- | --- | --- |'];
  for (const { capability, what, usage } of TYPICAL_CALLS) {
    for (const [i, key] of policy.capabilities[capability].chain.entries()) {
      const e = catalogEntry(key);
      const micro = costMicroUsd(findPriceRows(table, capability, e.modelId), usage);
      lines.push(`| ${i === 0 ? what : `the same on fallback \`${key}\``} | \`${e.modelId}\` | ${microToUsd(micro).toFixed(6)} |`);
    }
  }
  return lines.join('\n');
}

/** The whole document. */
// The simulated section runs once per process: simulatePolicy is async, the rest of the doc is not.
const DEFAULTS_SIMULATED = renderSimulationSection(await simulateDefaults());

export function renderAiPolicyDoc(policy: AiPolicy = tutoringPolicy(), defaults: AiPolicy = defaultPolicy, table: PriceTable = defaultPriceTable, simulated: string = DEFAULTS_SIMULATED): string {
  const caps: Capability[] = ['stt', 'tts', 'eval'];
  const out: string[] = [
    '# AI policy',
    '',
    '<!-- Generated by examples/docs-check/generate-ai-policy.ts from defaultPolicy, defaultPriceTable and',
    '     examples/server/ai-policy.json. Do not edit by hand: change the code or the policy file, then run',
    '     `node --import tsx examples/docs-check/generate-ai-policy.ts`. A test fails when this file is stale. -->',
    '',
    'How the Korean Together AI SDK calls speech-to-text, text-to-speech and the grading model: how long it waits,',
    'when it retries, when it gives up on a provider and tries the next, how much it may spend, and what each call',
    'costs. The first part is the policy the example tutoring server runs (`examples/server/ai-policy.json`, loaded',
    'with `loadPolicy`); the second lists the SDK defaults every option falls back to; the last is the price table.',
    '',
    '## Every call, in order',
    '',
    '1. **Check the request** before anything is sent: empty or oversized audio, unknown formats, empty or too long',
    '   text are refused as `invalid_request`. Nothing is called, nothing is billed.',
    '2. **Look in the cache** when the policy caches the capability (`cache.tts`, `cache.eval`; off by default): a hit',
    '   returns at once, costs nothing and writes one usage row with `cache_hit` and the cost it saved.',
    '   Otherwise **reserve the budget** for the worst case of the next attempt; no room means `budget_exceeded`.',
    '3. **Walk the chain**: for each provider in order, skip it when its breaker is open, wait for a rate-limit slot,',
    '   then attempt, retrying only what a retry can fix, within the one deadline of the call.',
    '4. **Check the grade** (evaluation only) against the schema; a bad answer moves on like a failure.',
    '5. **Record** one usage row per attempt (provider, model, tokens / audio / characters, latency, success,',
    '   error code, exact cost) into `ai_usage_log`; the caller never waits for that write.',
    '',
    '## The tutoring server\'s policy',
    '',
  ];
  for (const c of caps) out.push(`### ${CAPABILITY_TITLES[c]}`, '', capabilityWords(c, policy.capabilities[c], table), '');
  out.push('### Budgets', '', budgetWords(policy), '');
  out.push(
    '## SDK defaults (`defaultPolicy`)',
    '',
    'What `definePolicy({})` fills in for any option a policy leaves out. A policy file names only what it changes;',
    'unknown keys are refused, so a typo never silently falls back to a default.',
    '',
    defaultsTable(defaults),
    '',
    budgetWords(defaults),
    '',
    simulated,
  );
  out.push(
    `## Cost table (\`defaultPriceTable\`, version ${table.version})`,
    '',
    'Each attempt is priced from this table by its model id (globs like `*-Wavenet-*` price a voice tier; exact names',
    'win over globs). Costs are computed exactly in integer nano-dollars and stored to the micro-dollar, so the sum of',
    '`ai_usage_log.estimated_cost_usd` equals the sum of `meta.costUsd`. Prices change: a host app layers its own rows',
    'over this table with `createAiClient({ pricing: { version, rows } })`. A failed attempt that the provider did not',
    'bill costs 0; one it billed (an evaluation whose answer broke the schema) costs what it used.',
    '',
    priceTable(table),
    '',
    '### What typical calls cost',
    '',
    workedExamples(table, policy),
    '',
  );
  return out.join('\n');
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const doc = renderAiPolicyDoc();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(AI_POLICY_DOC_PATH, 'utf8');
    } catch {
      // missing counts as stale
    }
    if (current !== doc) {
      console.error('docs/AI_POLICY.md is stale: run node --import tsx examples/docs-check/generate-ai-policy.ts');
      process.exit(1);
    }
    console.log('docs/AI_POLICY.md is current');
  } else {
    writeFileSync(AI_POLICY_DOC_PATH, doc);
    console.log(`wrote docs/AI_POLICY.md (${doc.length} characters)`);
  }
}
