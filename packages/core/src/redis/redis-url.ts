import { AiError } from '../errors/ai-error.js';

/**
 * A Redis URL with its password (and user name) masked, for messages: never print a URL as
 * given, it may carry a password. Unparseable input becomes '<invalid Redis URL>'.
 */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    if (u.username) u.username = '***';
    return u.toString();
  } catch {
    return '<invalid Redis URL>';
  }
}

/** Checks that `url` is a redis:// or rediss:// URL; throws `invalid_config` naming `where` (never the password). */
export function checkRedisUrl(url: string, where: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new AiError('invalid_config', `${where}: not a URL (expected redis://host:port/db or rediss://...)`, { retryable: false });
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new AiError('invalid_config', `${where}: ${redactRedisUrl(url)} is not a redis:// or rediss:// URL`, { retryable: false });
  }
  return url;
}

/**
 * The Redis URL held by environment variable `name`; throws `invalid_config` naming the
 * variable (not its value) when it is unset or not a Redis URL.
 */
export function redisUrlFromEnv(name: string, where: string, env: Record<string, string | undefined> = process.env): string {
  const value = env[name];
  if (!value) {
    throw new AiError('invalid_config', `${where}: environment variable ${name} is not set (it should hold the Redis URL; or pass { url } or { client } in code)`, {
      retryable: false,
    });
  }
  return checkRedisUrl(value, `${where}: environment variable ${name}`);
}

/** One line that says why a Redis operation failed, without URLs or arguments. */
export function redisErrorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    const text = e.message.replace(/redis(s)?:\/\/\S+/gi, '<redis url>').slice(0, 200);
    return typeof code === 'string' && !text.includes(code) ? `${code}: ${text}` : text;
  }
  return 'unknown error';
}
