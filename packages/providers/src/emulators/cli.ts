#!/usr/bin/env node
// korean-together-emulators: starts every emulator, prints the endpoints (one JSON line) and
// the environment a host app would set, and runs until SIGINT / SIGTERM.

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startEmulators } from './start-emulators.js';
import { emulatorEnv } from './emulator-env.js';

const HELP = `Usage: korean-together-emulators [options]

Starts the Gemini REST (Gemini API and Vertex AI paths), Google Speech/TextToSpeech gRPC,
OpenAI Chat Completions, Whisper and speech emulators,
prints their endpoints as one JSON line, then the environment a host app would set,
and runs until SIGINT or SIGTERM.

Options:
  --host ADDR            address to bind (default 127.0.0.1; 0.0.0.0 for every interface)
  --port-gemini N        Gemini REST port (default 0: a free port; GET /health answers 200)
  --port-grpc N          Google Speech + TextToSpeech gRPC port (default 0)
  --port-whisper N       POST /v1/audio/transcriptions port (default 0)
  --port-http-tts N      POST /v1/audio/speech port (default 0)
  --port-openai N        POST /v1/chat/completions port, Azure deployment URLs too (default 0)
  --seed N               seed of probabilistic faults (default 1)
  --write-env PATH       also write the environment lines to PATH
  -h, --help             show this help
`;

function fail(message: string, code: number): never {
  process.stderr.write(`korean-together-emulators: ${message}\n`);
  process.exit(code);
}

function integer(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) fail(`--${name} must be an integer within ${min}..${max} (got '${raw}')`, 2);
  return n;
}

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        host: { type: 'string' },
        'port-gemini': { type: 'string' },
        'port-grpc': { type: 'string' },
        'port-whisper': { type: 'string' },
        'port-http-tts': { type: 'string' },
        'port-openai': { type: 'string' },
        seed: { type: 'string' },
        // Not --env-file: Node 20 takes that flag for itself even after the script name.
        'write-env': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    fail(`${err instanceof Error ? err.message : String(err)}\n\n${HELP}`, 2);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const str = (k: string) => values[k] as string | undefined;
  const ports = {
    gemini: integer('port-gemini', str('port-gemini'), 0, 65_535),
    grpc: integer('port-grpc', str('port-grpc'), 0, 65_535),
    whisper: integer('port-whisper', str('port-whisper'), 0, 65_535),
    httpTts: integer('port-http-tts', str('port-http-tts'), 0, 65_535),
    openai: integer('port-openai', str('port-openai'), 0, 65_535),
  };
  const seed = integer('seed', str('seed'), 0, 2 ** 32 - 1);
  const host = str('host');

  let emu: Awaited<ReturnType<typeof startEmulators>>;
  try {
    emu = await startEmulators({
      ...(host !== undefined && { host }),
      ...(seed !== undefined && { seed }),
      ports: Object.fromEntries(Object.entries(ports).filter(([, v]) => v !== undefined)),
    });
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err), 1);
  }

  const grpcHost = String(emu.google.clientOptions.apiEndpoint);
  const endpoints = {
    gemini: { baseUrl: emu.gemini.baseUrl, apiVersion: emu.gemini.httpOptions.apiVersion },
    vertex: { baseUrl: emu.vertex.baseUrl, apiVersion: emu.vertex.httpOptions.apiVersion, project: emu.vertex.project, location: emu.vertex.location },
    google: { host: grpcHost, port: emu.google.port },
    whisper: { baseUrl: emu.whisper.baseUrl },
    httpTts: { baseUrl: emu.httpTts.baseUrl },
    openai: { baseUrl: emu.openai.baseUrl },
  };
  const env = Object.entries(emulatorEnv(emu)).map(([k, v]) => `${k}=${v}`);
  const envFile = str('write-env');
  if (envFile) writeFileSync(envFile, `${env.join('\n')}\n`);
  process.stdout.write(`${JSON.stringify(endpoints)}\n${env.join('\n')}\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`korean-together-emulators: ${signal} again, exiting now\n`);
      process.exit(130);
    }
    stopping = true;
    process.stderr.write(`korean-together-emulators: ${signal}, closing\n`);
    // A last resort so a stuck socket can never keep the process alive.
    setTimeout(() => fail('close() did not finish within 5 s', 1), 5_000).unref();
    emu.close().then(
      () => process.stderr.write('korean-together-emulators: closed\n'),
      (err: unknown) => fail(`close failed: ${err instanceof Error ? err.message : String(err)}`, 1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => fail(err instanceof Error ? (err.stack ?? err.message) : String(err), 1));
