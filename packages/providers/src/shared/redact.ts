/** Shortest secret replaced literally; shorter strings ('emulator', 'x') are too likely to be ordinary words. */
const MIN_SECRET_LENGTH = 8;

/**
 * Replaces every literal occurrence of the given secrets (API keys, tokens) in `text`.
 * `safeProviderText` from the core catches key-shaped strings; this catches keys of any shape
 * that a server echoed back.
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret || secret.length < MIN_SECRET_LENGTH) continue;
    out = out.split(secret).join('[redacted]');
  }
  return out;
}
