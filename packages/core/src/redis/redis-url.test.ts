import { describe, expect, it } from 'vitest';
import { isAiError } from '../errors/ai-error.js';
import { checkRedisUrl, redactRedisUrl, redisErrorText, redisUrlFromEnv } from './redis-url.js';

describe('Redis URLs in messages', () => {
  it('masks the password and user name', () => {
    expect(redactRedisUrl('redis://default:hunter2@cache.internal:6380/3')).toBe('redis://***:***@cache.internal:6380/3');
    expect(redactRedisUrl('rediss://:only-pass@host')).toBe('rediss://:***@host');
    expect(redactRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactRedisUrl('not a url with hunter2')).toBe('<invalid Redis URL>');
  });

  it('checkRedisUrl accepts redis:// and rediss://, and names the option (not the password) otherwise', () => {
    expect(checkRedisUrl('redis://h:1/0', 'x.url')).toBe('redis://h:1/0');
    expect(checkRedisUrl('rediss://h', 'x.url')).toBe('rediss://h');
    for (const bad of ['http://u:hunter2@h', 'hunter2', '']) {
      try {
        checkRedisUrl(bad, 'x.url');
        expect.unreachable();
      } catch (e) {
        expect(isAiError(e) && e.code).toBe('invalid_config');
        expect((e as Error).message).toMatch(/^x\.url: /);
        expect((e as Error).message).not.toMatch(/hunter2/);
      }
    }
  });

  it('redisUrlFromEnv names the variable, never its value', () => {
    expect(redisUrlFromEnv('MY_REDIS', 'w', { MY_REDIS: 'redis://h:1' })).toBe('redis://h:1');
    expect(() => redisUrlFromEnv('MY_REDIS', 'w', {})).toThrow(/^w: environment variable MY_REDIS is not set/);
    expect(() => redisUrlFromEnv('MY_REDIS', 'w', { MY_REDIS: 'ftp://u:hunter2@h' })).toThrow(/environment variable MY_REDIS/);
    expect(() => redisUrlFromEnv('MY_REDIS', 'w', { MY_REDIS: 'ftp://u:hunter2@h' })).not.toThrow(/hunter2/);
  });

  it('redisErrorText drops URLs from error messages and keeps the error code', () => {
    const e = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1 via redis://u:hunter2@h:1'), { code: 'ECONNREFUSED' });
    expect(redisErrorText(e)).toBe('connect ECONNREFUSED 127.0.0.1:1 via <redis url>');
    expect(redisErrorText(Object.assign(new Error('Connection is closed.'), { code: 'EPIPE' }))).toBe('EPIPE: Connection is closed.');
    expect(redisErrorText('x')).toBe('unknown error');
  });
});
