import type { EmulatorPorts } from './providers.js';
import { defaultShutdownTimeoutMs, shutdownBudgetProblem } from './shutdown-budget.js';

/**
 * The server's settings, read once from the environment at start-up. Every problem is reported
 * together, naming the variable, so a bad deployment fails before it listens.
 */
export interface ServerConfig {
  /** PORT, default 5000. */
  port: number;
  /** HOST, default '0.0.0.0'. */
  host: string;
  /** DATABASE_URL: a Postgres server; unset means an in-process PGlite database. */
  databaseUrl?: string;
  /** DB_SCHEMA: schema holding the SDK's tables, default 'public'. Migrated at start-up. */
  dbSchema: string;
  /** PGLITE_DATA_DIR: where PGlite keeps its files when there is no DATABASE_URL; unset keeps it in memory. */
  pgliteDataDir?: string;
  /** USAGE_SPILL_DIR: spill directory of the Postgres usage sink; default the sink's own (under the OS temp dir). */
  usageSpillDir?: string;
  /** AI_POLICY_FILE: the policy file, default examples/server/ai-policy.json. */
  policyFile?: string;
  /** AI_BACKEND: 'emulators' (default: the emulators CLI on EMULATORS_HOST) or 'real' (Google / OpenAI with credentials). */
  backend: 'emulators' | 'real';
  /** Where the emulators listen (AI_BACKEND=emulators). */
  emulators: EmulatorPorts;
  /**
   * AI_BACKEND=real: where Gemini on Vertex AI (the eval chain's `flash-vertex`) runs.
   * GOOGLE_CLOUD_PROJECT (required with AI_BACKEND=real) and GOOGLE_CLOUD_LOCATION (default
   * 'global'); credentials are Application Default Credentials. Unset with the emulators.
   */
  vertex?: { project: string; location: string };
  /** SHUTDOWN_DEADLINE_MS: how long in-flight requests get to finish after SIGTERM before their AI calls are aborted, default 8000. */
  shutdownDeadlineMs: number;
  /**
   * SHUTDOWN_TIMEOUT_MS: the process exits (code 1) at the latest this long after SIGTERM, whatever
   * state the database or the AI services are in. Default SHUTDOWN_DEADLINE_MS + 1500 (9500:
   * inside start.sh's 10 s STOP_TIMEOUT_S). Must be at least SHUTDOWN_DEADLINE_MS + 1500: what is
   * left after the deadline is the usage sink's time to flush and spill (see shutdown-budget.ts).
   */
  shutdownTimeoutMs: number;
  /** Postgres pool timeouts (DATABASE_URL only); see DatabaseTimeouts. */
  db: DatabaseTimeouts;
  /** LOG_LEVEL: pino level, default 'info'. */
  logLevel: string;
}

/** How long the server waits for Postgres; each bounds a request that would otherwise hang. */
export interface DatabaseTimeouts {
  /** DB_CONNECT_TIMEOUT_MS: waiting for a new connection (or a free one from the pool), default 5000. */
  connectTimeoutMs: number;
  /** DB_STATEMENT_TIMEOUT_MS: the server cancels a statement running longer (Postgres `statement_timeout`), default 5000. */
  statementTimeoutMs: number;
  /**
   * DB_QUERY_TIMEOUT_MS: the client gives up on a query with no answer (node-postgres
   * `query_timeout`), default 6000: what bounds a request when the database stops answering
   * without closing the connection (a network partition). Above the statement timeout, so a
   * database that does answer reports its own cancellation first.
   */
  queryTimeoutMs: number;
}

export const DEFAULT_DATABASE_TIMEOUTS: DatabaseTimeouts = { connectTimeoutMs: 5_000, statementTimeoutMs: 5_000, queryTimeoutMs: 6_000 };

/** Default emulator ports; the same defaults as the start.sh supervisor passes to the emulators CLI. */
export const DEFAULT_EMULATOR_PORTS = { gemini: 8001, grpc: 8002, whisper: 8003, httpTts: 8004, openai: 8005 } as const;

/** Gemini on Vertex AI's location when GOOGLE_CLOUD_LOCATION is unset: the global endpoint, as the adapter defaults. */
export const DEFAULT_VERTEX_LOCATION = 'global';

// The checks geminiEvaluator({ vertex }) applies, repeated here so a bad value is reported with
// the other variables, by its variable name, before anything is built.
const GOOGLE_CLOUD_PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const GOOGLE_CLOUD_LOCATION_NAME = /^[a-z][a-z0-9-]{1,40}$/;

/**
 * What AI_BACKEND=real needs from the environment beyond Google's Application Default
 * Credentials (which only a call can prove): one problem per missing or bad variable. Keys are
 * only checked for presence, never quoted.
 */
function readRealBackend(env: NodeJS.ProcessEnv, problems: string[]): { project: string; location: string } | undefined {
  if (!env.GEMINI_API_KEY && !env.GOOGLE_API_KEY) problems.push("GEMINI_API_KEY: required with AI_BACKEND=real (Gemini API key of the eval chain's 'flash'; GOOGLE_API_KEY also works)");
  if (!env.OPENAI_API_KEY) problems.push("OPENAI_API_KEY: required with AI_BACKEND=real (OpenAI key of the eval chain's 'gpt-4.1-mini', Whisper and the OpenAI speech API)");
  const project = env.GOOGLE_CLOUD_PROJECT;
  const location = env.GOOGLE_CLOUD_LOCATION || DEFAULT_VERTEX_LOCATION;
  if (!project) problems.push("GOOGLE_CLOUD_PROJECT: required with AI_BACKEND=real (Google Cloud project of the eval chain's 'flash-vertex', Gemini on Vertex AI)");
  else if (!GOOGLE_CLOUD_PROJECT_ID.test(project)) problems.push('GOOGLE_CLOUD_PROJECT: must be a Google Cloud project id (6-30 lowercase letters, digits and hyphens, starting with a letter)');
  if (!GOOGLE_CLOUD_LOCATION_NAME.test(location)) problems.push("GOOGLE_CLOUD_LOCATION: must be a region such as 'us-central1' or 'global'");
  return project ? { project, location } : undefined;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, problems: string[], min = 0, max = 65_535): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${name}: must be an integer within ${min}..${max} (got '${raw}')`);
    return fallback;
  }
  return n;
}

/** Reads the configuration; throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const problems: string[] = [];
  const backend = env.AI_BACKEND ?? 'emulators';
  if (backend !== 'emulators' && backend !== 'real') problems.push(`AI_BACKEND: must be 'emulators' or 'real' (got '${backend}')`);
  const dbSchema = env.DB_SCHEMA || 'public';
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(dbSchema)) problems.push('DB_SCHEMA: must be letters, digits and underscores, starting with a letter or underscore');
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) problems.push('DATABASE_URL: must start with postgres:// or postgresql://');
  const shutdownDeadlineMs = int(env, 'SHUTDOWN_DEADLINE_MS', 8_000, problems, 0, 600_000);
  const vertex = backend === 'real' ? readRealBackend(env, problems) : undefined;
  const config: ServerConfig = {
    port: int(env, 'PORT', 5000, problems),
    host: env.HOST || '0.0.0.0',
    ...(databaseUrl && { databaseUrl }),
    dbSchema,
    ...(env.PGLITE_DATA_DIR && { pgliteDataDir: env.PGLITE_DATA_DIR }),
    ...(env.USAGE_SPILL_DIR && { usageSpillDir: env.USAGE_SPILL_DIR }),
    ...(env.AI_POLICY_FILE && { policyFile: env.AI_POLICY_FILE }),
    backend: backend === 'real' ? 'real' : 'emulators',
    ...(vertex && { vertex }),
    emulators: {
      host: env.EMULATORS_HOST || '127.0.0.1',
      geminiPort: int(env, 'GEMINI_EMULATOR_PORT', DEFAULT_EMULATOR_PORTS.gemini, problems, 1),
      grpcPort: int(env, 'GOOGLE_EMULATOR_PORT', DEFAULT_EMULATOR_PORTS.grpc, problems, 1),
      whisperPort: int(env, 'WHISPER_EMULATOR_PORT', DEFAULT_EMULATOR_PORTS.whisper, problems, 1),
      httpTtsPort: int(env, 'HTTP_TTS_EMULATOR_PORT', DEFAULT_EMULATOR_PORTS.httpTts, problems, 1),
      openaiPort: int(env, 'OPENAI_EMULATOR_PORT', DEFAULT_EMULATOR_PORTS.openai, problems, 1),
    },
    shutdownDeadlineMs,
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', defaultShutdownTimeoutMs(shutdownDeadlineMs), problems, 1, 610_000),
    db: {
      connectTimeoutMs: int(env, 'DB_CONNECT_TIMEOUT_MS', DEFAULT_DATABASE_TIMEOUTS.connectTimeoutMs, problems, 1, 600_000),
      statementTimeoutMs: int(env, 'DB_STATEMENT_TIMEOUT_MS', DEFAULT_DATABASE_TIMEOUTS.statementTimeoutMs, problems, 1, 600_000),
      queryTimeoutMs: int(env, 'DB_QUERY_TIMEOUT_MS', DEFAULT_DATABASE_TIMEOUTS.queryTimeoutMs, problems, 1, 600_000),
    },
    logLevel: env.LOG_LEVEL || 'info',
  };
  // Checked only when both parsed: a fallback standing in for a bad value would only confuse the message.
  const shutdownParsed = !problems.some((p) => p.startsWith('SHUTDOWN_'));
  const budget = shutdownParsed && shutdownBudgetProblem(config.shutdownDeadlineMs, config.shutdownTimeoutMs, { deadline: 'SHUTDOWN_DEADLINE_MS', timeout: 'SHUTDOWN_TIMEOUT_MS' });
  if (budget) problems.push(budget);
  if (problems.length) throw new ConfigError(`invalid server configuration: ${problems.join('; ')}`);
  return config;
}
