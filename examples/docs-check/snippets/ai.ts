// src/ai.ts in your app: one AI client for the whole process.
import { credentials } from '@grpc/grpc-js';
import { PGlite } from '@electric-sql/pglite';
import { createAiClient, loadPolicy, type AiClient } from '@korean-together/core';
import { geminiEvaluator, googleStt, googleTts, httpTts, whisperStt } from '@korean-together/providers';
import { migrate } from '@korean-together/sql';
import { createPgliteSink, createPostgresSink, type PostgresSink } from '@korean-together/usage-log';
import pg from 'pg';

export interface Ai {
  client: AiClient;
  /** Your app's own queries (session events, stats): a pg Pool, or PGlite in development. */
  db: pg.Pool | PGlite;
  schema: string;
  usage: PostgresSink;
  close(): Promise<void>;
}

export async function createAi(env: NodeJS.ProcessEnv = process.env, policyFile = 'ai-policy.json'): Promise<Ai> {
  const schema = env.AI_DB_SCHEMA ?? 'public';
  // 1. The database: migrate first (idempotent, safe when several instances start at once).
  let db: pg.Pool | PGlite;
  let usage: PostgresSink;
  if (env.DATABASE_URL) {
    db = new pg.Pool({ connectionString: env.DATABASE_URL, max: 5, connectionTimeoutMillis: 5_000 });
    db.on('error', () => {}); // an idle connection killed by the server must not crash the app
    await migrate({ client: db, schema });
    usage = createPostgresSink({ connectionString: env.DATABASE_URL, schema, spillDir: env.USAGE_SPILL_DIR });
  } else {
    db = new PGlite(); // development without a server: in memory
    await migrate({ client: db, schema });
    usage = createPgliteSink({ db, schema });
  }

  // 2. Providers. Keys come from the environment (GEMINI_API_KEY, OPENAI_API_KEY, Google ADC).
  //    The *_EMULATOR_* variables point them at `korean-together-emulators` instead (CI, local).
  const host = env.EMULATORS_HOST;
  const google = host ? { apiEndpoint: host, port: Number(env.GOOGLE_EMULATOR_PORT), sslCreds: credentials.createInsecure(), universeDomain: 'googleapis.com' } : undefined;
  const gemini = host ? { baseUrl: `http://${host}:${env.GEMINI_EMULATOR_PORT}` } : undefined;
  const whisperUrl = host ? `http://${host}:${env.WHISPER_EMULATOR_PORT}` : undefined;
  const speechUrl = host ? `http://${host}:${env.HTTP_TTS_EMULATOR_PORT}` : 'https://api.openai.com';
  const providers = {
    google: googleStt({ clientOptions: google }),
    whisper: whisperStt({ baseUrl: whisperUrl, apiKey: env.OPENAI_API_KEY }),
    wavenet: googleTts({ voice: 'ko-KR-Wavenet-A', clientOptions: google }),
    openai: httpTts({ baseUrl: speechUrl, apiKey: env.OPENAI_API_KEY }),
    flash: geminiEvaluator({ model: 'gemini-2.5-flash', apiKey: env.GEMINI_API_KEY, httpOptions: gemini }),
    pro: geminiEvaluator({ model: 'gemini-2.5-pro', apiKey: env.GEMINI_API_KEY, httpOptions: gemini }),
  };

  // 3. The client: the policy file is validated here; a typo fails start-up, not a learner's call.
  const client = createAiClient({ policy: loadPolicy(policyFile), providers, sinks: [usage] });

  return {
    client,
    db,
    schema,
    usage,
    async close() {
      await client.close(); // waits for in-flight calls, flushes and closes the usage sink
      await providers.google.close();
      await providers.wavenet.close();
      if (db instanceof PGlite) await db.close();
      else await db.end();
    },
  };
}
