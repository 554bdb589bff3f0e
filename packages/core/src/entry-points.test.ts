// The three entry points split by audience: the main entry for host apps, ./provider-kit for
// adapters, ./testing for tests. What moved is exported from its new entry only.
import { describe, expect, it } from 'vitest';
import * as main from './index.js';
import * as kit from './provider-kit.js';
import * as testing from './testing/index.js';
import * as otel from './otel/index.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What adapters need: on ./provider-kit, no longer on the main entry. */
const ADAPTER_NAMES = [
  'safeProviderText',
  'MAX_PROVIDER_TEXT',
  'codeForHttpStatus',
  'codeForGrpcStatus',
  'GrpcStatus',
  'parseRetryAfter',
  'parseRetryDelay',
  'retryAfterFromHeaders',
  'classifyProviderError',
  'googleErrorDetails',
  'openAiErrorDetails',
  'GOOGLE_ERROR_DOMAIN',
  'OPENAI_ERROR_DOMAIN',
  'httpError',
  'evalSystemInstruction',
  'evalUserPrompt',
  'FORMALITY_LABELS',
  'validateSttRequest',
  'validateTtsRequest',
  'validateEvalRequest',
  'MAX_SYNC_AUDIO_BYTES',
  'MAX_SYNC_AUDIO_MS',
  'MAX_EVAL_TEXT_CHARS',
  'audioDurationMs',
  'audioContainerProblem',
  'scanMp3',
  'joinMp3',
  'parseMp3FrameHeader',
  'id3v2Length',
  'parseWav',
  'joinWav',
  'buildWav',
  'pcm16Fmt',
  'isWav',
  'wavData',
];

describe('entry points', () => {
  it('the main entry holds the client, the policy, errors, the spec, pricing, stores and the clock', () => {
    for (const name of ['createAiClient', 'definePolicy', 'defaultPolicy', 'loadPolicy', 'AiError', 'isAiError', 'AUDIO_ENCODINGS', 'defaultPriceTable', 'Pricer', 'MemoryBudgetStore', 'systemClock', 'backoffDelayMs']) {
      expect(main, name).toHaveProperty(name);
    }
  });

  it('what adapters need is on ./provider-kit and not on the main entry', () => {
    for (const name of ADAPTER_NAMES) {
      expect(kit, name).toHaveProperty(name);
      expect(main, name).not.toHaveProperty(name);
    }
  });

  it('worstCaseUnits is on ./testing only, and no engine internal is exported', () => {
    expect(testing).toHaveProperty('worstCaseUnits');
    for (const name of ['worstCaseUnits', 'walkChain', 'Deadline', 'ChildAbort', 'BudgetGuard', 'decideRetry', 'CircuitBreaker', 'RateLimiter']) {
      expect(main, name).not.toHaveProperty(name);
      expect(kit, name).not.toHaveProperty(name);
    }
  });

  it('./otel holds openTelemetry, and only src/otel imports @opentelemetry/api (an optional peer)', () => {
    expect(otel).toHaveProperty('openTelemetry');
    expect(main).not.toHaveProperty('openTelemetry');
    const src = fileURLToPath(new URL('.', import.meta.url));
    const importers: string[] = [];
    const visit = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) visit(path);
        else if (/\.ts$/.test(entry.name) && !/\.test\.ts$/.test(entry.name) && /from '@opentelemetry\//.test(readFileSync(path, 'utf8'))) importers.push(relative(src, path));
      }
    };
    visit(src);
    expect(importers.length).toBeGreaterThan(0);
    expect(importers.filter((p) => !p.startsWith('otel/'))).toEqual([]);
  });
});
