import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isAiError } from '@korean-together/core';
import { ConfigError, DEFAULT_EMULATOR_PORTS, loadConfig } from '../src/config.js';
import { buildProviders, emulatorEndpoints } from '../src/providers.js';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const OPENAI_KEY = 'sk-real-4b1d9e0c7a2f';
const GEMINI_KEY = 'AIza-real-8c2e5f1a9d3b';
const complete = { AI_BACKEND: 'real', GEMINI_API_KEY: GEMINI_KEY, OPENAI_API_KEY: OPENAI_KEY, GOOGLE_CLOUD_PROJECT: 'korean-tutor-prod' };

/** The message loadConfig throws for an environment, or undefined when it accepts it. */
function problem(env: NodeJS.ProcessEnv): string | undefined {
  try {
    loadConfig(env);
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
}

describe('AI_BACKEND=real: the cross-vendor eval chain needs its settings before the server starts', () => {
  it('names each missing variable: the Gemini key, the Vertex AI project and the OpenAI key', () => {
    const message = problem({ AI_BACKEND: 'real' })!;
    expect(message).toMatch(/GEMINI_API_KEY: required with AI_BACKEND=real/);
    expect(message).toMatch(/OPENAI_API_KEY: required with AI_BACKEND=real/);
    expect(message).toMatch(/GOOGLE_CLOUD_PROJECT: required with AI_BACKEND=real/);
    for (const name of ['GEMINI_API_KEY', 'OPENAI_API_KEY', 'GOOGLE_CLOUD_PROJECT'] as const) {
      const without = { ...complete, [name]: '' };
      expect(problem(without), name).toContain(`${name}: required`);
    }
    // GOOGLE_API_KEY is the Gemini client's other name for the key.
    expect(problem({ ...complete, GEMINI_API_KEY: '', GOOGLE_API_KEY: GEMINI_KEY })).toBeUndefined();
  });

  it('reads the Vertex AI project and location (default global); the keys stay in the environment', () => {
    const config = loadConfig(complete);
    expect(config.backend).toBe('real');
    expect(config.vertex).toEqual({ project: 'korean-tutor-prod', location: 'global' });
    expect(loadConfig({ ...complete, GOOGLE_CLOUD_LOCATION: 'europe-west4' }).vertex).toEqual({ project: 'korean-tutor-prod', location: 'europe-west4' });
    expect(JSON.stringify(config)).not.toContain(OPENAI_KEY);
    expect(JSON.stringify(config)).not.toContain(GEMINI_KEY);
  });

  it('refuses a malformed project or location by its variable, never quoting the keys', () => {
    const message = problem({ ...complete, GOOGLE_CLOUD_PROJECT: 'My Project', GOOGLE_CLOUD_LOCATION: 'Europe/West' })!;
    expect(message).toMatch(/GOOGLE_CLOUD_PROJECT: must be a Google Cloud project id/);
    expect(message).toMatch(/GOOGLE_CLOUD_LOCATION: must be a region/);
    expect(message).not.toContain(OPENAI_KEY);
    expect(message).not.toContain(GEMINI_KEY);
  });

  it('asks nothing of the emulators backend, which reads the Chat Completions port', () => {
    const config = loadConfig({ OPENAI_EMULATOR_PORT: '9105' });
    expect(config.vertex).toBeUndefined();
    expect(config.emulators.openaiPort).toBe(9105);
    expect(loadConfig({}).emulators.openaiPort).toBe(DEFAULT_EMULATOR_PORTS.openai);
    expect(problem({ OPENAI_EMULATOR_PORT: '0' })).toMatch(/OPENAI_EMULATOR_PORT: must be an integer/);
    // Vertex AI answers on the Gemini port; OpenAI on its own.
    const endpoints = emulatorEndpoints(config.emulators);
    expect(endpoints.vertex.httpOptions).toEqual({ baseUrl: `http://127.0.0.1:${DEFAULT_EMULATOR_PORTS.gemini}`, apiVersion: 'v1beta1' });
    expect(endpoints.openai.baseUrl).toBe('http://127.0.0.1:9105');
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('builds the real eval chain with the configured Vertex AI project, without calling anything', async () => {
    vi.stubEnv('GEMINI_API_KEY', GEMINI_KEY);
    vi.stubEnv('OPENAI_API_KEY', OPENAI_KEY);
    vi.stubEnv('GOOGLE_CLOUD_PROJECT', '');
    // google-auth-library would look for a GCE metadata server for the Google clients; there is none here.
    vi.stubEnv('METADATA_SERVER_DETECTION', 'none');
    const set = buildProviders({ kind: 'real', vertex: loadConfig({ ...complete, GOOGLE_CLOUD_LOCATION: 'europe-west4' }).vertex! });
    try {
      const { providers } = set;
      expect([providers.flash, providers['flash-vertex'], providers['gpt-4.1-mini']].map((p) => `${p!.name}/${p!.modelId}`)).toEqual([
        'gemini/gemini-2.5-flash',
        'gemini-vertex/gemini-2.5-flash',
        'openai/gpt-4.1-mini',
      ]);
    } finally {
      await set.close();
    }
    // Without the configured project (and none in the environment) the Vertex AI step cannot be built.
    let error: unknown;
    try {
      await buildProviders({ kind: 'real' }).close();
    } catch (e) {
      error = e;
    }
    expect(isAiError(error) && error.code).toBe('invalid_config');
  });

  it('the entry point exits 2 before listening, naming what is missing', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, AI_BACKEND: 'real', OPENAI_API_KEY: OPENAI_KEY, PORT: '0', DATABASE_URL: '' };
    for (const name of ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'GOOGLE_CLOUD_PROJECT', 'GOOGLE_CLOUD_LOCATION']) delete env[name];
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(output).toContain('GEMINI_API_KEY: required with AI_BACKEND=real');
    expect(output).toContain('GOOGLE_CLOUD_PROJECT: required with AI_BACKEND=real');
    expect(output).not.toContain('OPENAI_API_KEY: required');
    expect(output).not.toContain(OPENAI_KEY);
  }, 30_000);
});
