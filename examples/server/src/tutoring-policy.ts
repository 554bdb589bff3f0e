import { fileURLToPath } from 'node:url';
import { loadPolicy, type AiPolicy } from '@korean-together/core';

/** The tutoring server's policy file; the demo and docs/AI_POLICY.md read the same file. */
export const TUTORING_POLICY_PATH = fileURLToPath(new URL('../ai-policy.json', import.meta.url));

/** Loads and validates a policy file (default: the tutoring policy); throws AiError `invalid_config` naming the file. */
export function tutoringPolicy(path: string = TUTORING_POLICY_PATH): AiPolicy {
  return loadPolicy(path);
}
