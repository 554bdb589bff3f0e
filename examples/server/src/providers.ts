import { credentials } from '@grpc/grpc-js';
import type { Provider } from '@korean-together/core';
import { geminiEvaluator, googleStt, googleTts, httpTts, openaiEvaluator, whisperStt, type SpeechClientOptions, type TextToSpeechClientOptions } from '@korean-together/providers';
import { PROVIDER_CATALOG, type CatalogEntry } from './provider-catalog.js';

/** Where emulated services answer: the shape `startEmulators()` returns, so either can be passed. */
export interface EmulatorEndpoints {
  gemini: { httpOptions: { baseUrl: string; apiVersion: string } };
  vertex: { httpOptions: { baseUrl: string; apiVersion: string } };
  openai: { baseUrl: string };
  google: { clientOptions: Record<string, unknown> };
  whisper: { baseUrl: string };
  httpTts: { baseUrl: string };
}

/** Where Gemini on Vertex AI runs for the real backend; unset fields fall back to GOOGLE_CLOUD_PROJECT / GOOGLE_CLOUD_LOCATION. */
export interface VertexTarget {
  project?: string;
  location?: string;
}

export type AiBackend =
  /** `apiKey`: the key sent to the emulators (they accept any), default 'emulator'. */
  | { kind: 'emulators'; endpoints: EmulatorEndpoints; apiKey?: string }
  | { kind: 'real'; vertex?: VertexTarget };

/** Where the emulators CLI listens: host and ports (Vertex AI answers on the Gemini port). */
export interface EmulatorPorts {
  host: string;
  geminiPort: number;
  grpcPort: number;
  whisperPort: number;
  httpTtsPort: number;
  openaiPort: number;
}

/** Endpoints of emulators running in another process (the emulators CLI), from host and ports. */
export function emulatorEndpoints(e: EmulatorPorts): EmulatorEndpoints {
  return {
    gemini: { httpOptions: { baseUrl: `http://${e.host}:${e.geminiPort}`, apiVersion: 'v1beta' } },
    // The emulators serve Vertex AI's paths on the Gemini port, counted and faulted as their own target.
    vertex: { httpOptions: { baseUrl: `http://${e.host}:${e.geminiPort}`, apiVersion: 'v1beta1' } },
    openai: { baseUrl: `http://${e.host}:${e.openaiPort}` },
    // Insecure gRPC to the local emulator; universeDomain stops the client probing a metadata server.
    google: { clientOptions: { apiEndpoint: e.host, port: e.grpcPort, sslCreds: credentials.createInsecure(), universeDomain: 'googleapis.com' } },
    whisper: { baseUrl: `http://${e.host}:${e.whisperPort}` },
    httpTts: { baseUrl: `http://${e.host}:${e.httpTtsPort}` },
  };
}

export interface ProviderSet {
  /** Providers by the catalog's keys, for `createAiClient({ providers })`. */
  providers: Record<string, Provider>;
  /** Closes the gRPC channels of the Google clients. */
  close(): Promise<void>;
}

/** The adapter that builds one catalog entry, against the emulators or the real services. */
function build(entry: CatalogEntry, backend: AiBackend): Provider {
  const emu = backend.kind === 'emulators' ? backend.endpoints : undefined;
  const apiKey = backend.kind === 'emulators' ? (backend.apiKey ?? 'emulator') : undefined;
  // The emulators accept any key; real services read theirs from the environment
  // (GEMINI_API_KEY, OPENAI_API_KEY, Google Application Default Credentials); loadConfig
  // checks the keys and the Vertex AI project before the server starts.
  switch (entry.adapter) {
    case 'geminiEvaluator':
      return geminiEvaluator({ model: entry.model, ...(emu && { apiKey, httpOptions: emu.gemini.httpOptions }) });
    case 'geminiVertexEvaluator':
      // Emulators: Vertex AI express mode (an API key, which they accept), so no Google account
      // or token is needed. Real: a project and location with Application Default Credentials.
      return emu
        ? geminiEvaluator({ model: entry.model, vertex: { apiKey: apiKey! }, httpOptions: emu.vertex.httpOptions })
        : geminiEvaluator({ model: entry.model, vertex: { ...(backend.kind === 'real' && backend.vertex) } });
    case 'openaiEvaluator':
      // name 'openai' as on the real service (the adapter would call a local host 'openai-compatible').
      return openaiEvaluator({ model: entry.model, ...(emu && { baseUrl: emu.openai.baseUrl, apiKey, name: 'openai' }) });
    case 'googleStt':
      return googleStt({ ...(entry.model !== 'default' && { model: entry.model }), ...(emu && { clientOptions: emu.google.clientOptions as SpeechClientOptions }) });
    case 'googleTts':
      return googleTts({ voice: entry.model, ...(emu && { clientOptions: emu.google.clientOptions as TextToSpeechClientOptions }) });
    case 'whisperStt':
      return whisperStt({ model: entry.model, ...(emu && { baseUrl: emu.whisper.baseUrl, apiKey }) });
    case 'httpTts':
      return httpTts({ model: entry.model, baseUrl: emu ? emu.httpTts.baseUrl : 'https://api.openai.com', ...(emu && { apiKey }) });
  }
}

/** Builds every provider of the catalog for the given backend. */
export function buildProviders(backend: AiBackend): ProviderSet {
  const providers: Record<string, Provider> = {};
  for (const entry of PROVIDER_CATALOG) providers[entry.key] = build(entry, backend);
  return {
    providers,
    async close() {
      await Promise.allSettled(
        Object.values(providers).map((p) => (p as { close?: () => Promise<void> }).close?.()),
      );
    },
  };
}
