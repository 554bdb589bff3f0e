import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_EMULATOR_PORTS, loadConfig } from '../src/config.js';

// Docker cannot run here; these keep the deployment files consistent with the code they start.
const read = (p: string) => readFileSync(fileURLToPath(new URL(p, import.meta.url)), 'utf8');

describe('deployment files', () => {
  const startSh = read('../start.sh');
  const dockerfile = read('../Dockerfile');
  const compose = read('../docker-compose.yml');

  it('use the same ports as the server configuration', () => {
    const config = loadConfig({});
    expect(config.port).toBe(5000);
    expect(startSh).toContain(`GEMINI_EMULATOR_PORT="\${GEMINI_EMULATOR_PORT:-${DEFAULT_EMULATOR_PORTS.gemini}}"`);
    expect(startSh).toContain(`GOOGLE_EMULATOR_PORT="\${GOOGLE_EMULATOR_PORT:-${DEFAULT_EMULATOR_PORTS.grpc}}"`);
    expect(startSh).toContain(`WHISPER_EMULATOR_PORT="\${WHISPER_EMULATOR_PORT:-${DEFAULT_EMULATOR_PORTS.whisper}}"`);
    expect(startSh).toContain(`HTTP_TTS_EMULATOR_PORT="\${HTTP_TTS_EMULATOR_PORT:-${DEFAULT_EMULATOR_PORTS.httpTts}}"`);
    expect(startSh).toContain(`OPENAI_EMULATOR_PORT="\${OPENAI_EMULATOR_PORT:-${DEFAULT_EMULATOR_PORTS.openai}}"`);
    expect(config.emulators).toEqual({
      host: '127.0.0.1',
      geminiPort: DEFAULT_EMULATOR_PORTS.gemini,
      grpcPort: DEFAULT_EMULATOR_PORTS.grpc,
      whisperPort: DEFAULT_EMULATOR_PORTS.whisper,
      httpTtsPort: DEFAULT_EMULATOR_PORTS.httpTts,
      openaiPort: DEFAULT_EMULATOR_PORTS.openai,
    });
  });

  it('start.sh passes every emulator port to the emulators CLI, the Chat Completions port included', () => {
    for (const flag of ['--port-gemini "$GEMINI_EMULATOR_PORT"', '--port-grpc "$GOOGLE_EMULATOR_PORT"', '--port-whisper "$WHISPER_EMULATOR_PORT"', '--port-http-tts "$HTTP_TTS_EMULATOR_PORT"', '--port-openai "$OPENAI_EMULATOR_PORT"']) {
      expect(startSh).toContain(flag);
    }
  });

  it('check both services in the healthcheck, as the design note asks', () => {
    const both = `curl -sf http://localhost:5000/health && curl -sf http://localhost:${DEFAULT_EMULATOR_PORTS.gemini}/health || exit 1`;
    expect(dockerfile).toContain(both);
    expect(compose).toContain(both);
    expect(compose).toMatch(/start_period: 60s/);
  });

  it('run the supervisor, and give it longer to stop than its own force-kill', () => {
    expect(dockerfile).toContain('CMD ["bash", "examples/server/start.sh"]');
    expect(startSh).toContain('STOP_TIMEOUT_S="${STOP_TIMEOUT_S:-10}"');
    expect(startSh).toContain('AI_STOP_TIMEOUT_S="${AI_STOP_TIMEOUT_S:-3}"');
    const grace = Number(/stop_grace_period: (\d+)s/.exec(compose)?.[1]);
    // The server stops first, then the AI service: the two timeouts add up.
    expect(grace).toBeGreaterThan(10 + 3);
    // The server's own shutdown timeout fits inside the supervisor's.
    expect(loadConfig({}).shutdownTimeoutMs).toBeLessThan(10_000);
  });

  it('reject a bad environment, naming every bad variable', () => {
    expect(() => loadConfig({ PORT: 'x', AI_BACKEND: 'cloud', DB_SCHEMA: 'a-b' })).toThrow(/(?=.*PORT: must be an integer)(?=.*AI_BACKEND: )(?=.*DB_SCHEMA: )/);
    expect(() => loadConfig({ SHUTDOWN_DEADLINE_MS: '5000', SHUTDOWN_TIMEOUT_MS: '4000', DB_QUERY_TIMEOUT_MS: '0' })).toThrow(/(?=.*SHUTDOWN_TIMEOUT_MS: must be above)(?=.*DB_QUERY_TIMEOUT_MS: )/);
    expect(loadConfig({}).db).toEqual({ connectTimeoutMs: 5_000, statementTimeoutMs: 5_000, queryTimeoutMs: 6_000 });
    expect(loadConfig({ SHUTDOWN_DEADLINE_MS: '20000' }).shutdownTimeoutMs).toBe(21_500);
  });
});
