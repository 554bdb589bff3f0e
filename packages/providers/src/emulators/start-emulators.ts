// startEmulators(): every emulated endpoint on its own free port, one fault book and one set
// of hit counters, and the ready client options for each adapter.

import * as grpc from '@grpc/grpc-js';
import { FaultScript, HitCounter } from './faults.js';
import { GeminiEmulator } from './gemini-server.js';
import { GoogleGrpcEmulator } from './google-grpc-server.js';
import { OpenAiAudioEmulator } from './openai-audio-server.js';
import { OpenAiChatEmulator } from './openai-chat-server.js';
import { StreamTimingSettings } from './stream-timing.js';
import type { Emulators, StartEmulatorsOptions } from './types.js';

/** The Gemini API version the returned httpOptions pin (the one that takes responseJsonSchema); v1 is served too. */
export const EMULATOR_GEMINI_API_VERSION = 'v1beta';
/** The Vertex AI API version the returned vertex httpOptions pin (@google/genai's default); v1 is served too. */
export const EMULATOR_VERTEX_API_VERSION = 'v1beta1';
/** Project and location handed out for the Vertex route; the emulator accepts any. */
export const EMULATOR_VERTEX_PROJECT = 'emulator-project';
export const EMULATOR_VERTEX_LOCATION = 'us-central1';

/**
 * Starts the Gemini REST (Gemini API and Vertex AI paths), Google gRPC (Speech +
 * TextToSpeech), OpenAI Chat Completions, Whisper and speech emulators
 * on `opts.host` (default 127.0.0.1), each on a free port unless `opts.ports` names one.
 * Resolves once all listen; if one cannot, the others are closed and the error names it.
 */
export async function startEmulators(opts: StartEmulatorsOptions = {}): Promise<Emulators> {
  const host = opts.host ?? '127.0.0.1';
  const ports = opts.ports ?? {};
  const faults = new FaultScript(opts.seed ?? 1);
  const hits = new HitCounter();
  const gemini = new GeminiEmulator(faults, hits);
  const streamTiming = new StreamTimingSettings(opts.streamTiming);
  const google = new GoogleGrpcEmulator(faults, hits, streamTiming);
  const whisper = new OpenAiAudioEmulator('whisper', faults, hits);
  const httpTts = new OpenAiAudioEmulator('http-tts', faults, hits);
  const openai = new OpenAiChatEmulator(faults, hits);
  const servers = [gemini, google, whisper, httpTts, openai];
  const close = async () => {
    await Promise.all(servers.map((s) => s.close()));
  };

  const bound = await Promise.allSettled([
    gemini.listen(host, ports.gemini ?? 0),
    google.listen(host, ports.grpc ?? 0),
    whisper.listen(host, ports.whisper ?? 0),
    httpTts.listen(host, ports.httpTts ?? 0),
    openai.listen(host, ports.openai ?? 0),
  ]);
  const failed = bound.find((b): b is PromiseRejectedResult => b.status === 'rejected');
  if (failed) {
    await close();
    throw failed.reason;
  }
  const [geminiPort, grpcPort, whisperPort, ttsPort, openaiPort] = bound.map((b) => (b as PromiseFulfilledResult<number>).value) as [number, number, number, number, number];

  // Clients cannot connect to a wildcard address; point them at loopback instead.
  const clientHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const urlHost = clientHost.includes(':') ? `[${clientHost}]` : clientHost;
  const geminiBase = `http://${urlHost}:${geminiPort}`;
  return {
    gemini: { baseUrl: geminiBase, httpOptions: { baseUrl: geminiBase, apiVersion: EMULATOR_GEMINI_API_VERSION } },
    vertex: {
      baseUrl: geminiBase,
      httpOptions: { baseUrl: geminiBase, apiVersion: EMULATOR_VERTEX_API_VERSION },
      project: EMULATOR_VERTEX_PROJECT,
      location: EMULATOR_VERTEX_LOCATION,
    },
    openai: { baseUrl: `http://${urlHost}:${openaiPort}` },
    google: {
      port: grpcPort,
      clientOptions: { apiEndpoint: clientHost, port: grpcPort, sslCreds: grpc.credentials.createInsecure(), universeDomain: 'googleapis.com' },
    },
    whisper: { baseUrl: `http://${urlHost}:${whisperPort}` },
    httpTts: { baseUrl: `http://${urlHost}:${ttsPort}` },
    faults,
    hits,
    streamTiming,
    close,
  };
}
