// `pnpm demo`: a scripted Korean lesson through the SDK, on local emulators and an embedded
// PGlite database by default. See --help.

import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  createAiClient,
  isAiError,
  usdToMicro,
  microToUsd,
  type AiClient,
  type AiClientEvents,
  type AttemptInfo,
  type Capability,
  type ResultMeta,
} from '@korean-together/core';
import { googleTts } from '@korean-together/providers';
import { startEmulators, synthesizeWav, type Emulators } from '@korean-together/providers/emulators';
import { qualifiedName } from '@korean-together/sql';
import { openDatabase, type Database } from '../server/src/database.js';
import { buildProviders, type ProviderSet } from '../server/src/providers.js';
import { runTurn, type CallReport } from '../server/src/turn.js';
import { tutoringPolicy, TUTORING_POLICY_PATH } from '../server/src/tutoring-policy.js';
import { evalFallbacks } from './eval-fallbacks.js';
import { LESSON, LIVE } from './lesson-script.js';
import { runLiveActivity } from './live-activity.js';
import { textTable } from './text-table.js';

const HELP = `Usage: pnpm demo [options]

Runs a short scripted Korean lesson through the Korean Together AI SDK: for each activity the
tutor's prompt is spoken (TTS), the learner's answer is spoken and transcribed (STT), graded
(LLM evaluation) and the tutor's reply spoken. Faults are injected on the way so the policy
(examples/server/ai-policy.json) visibly retries, falls back and hedges. Prints every call's
provider, attempts, latency and cost, then the v_daily_ai_costs and v_evaluation_stats rows
read back from the database.

Grading has two vendors: Gemini Flash on the Gemini API, then on Vertex AI (its own endpoint
and quota), then OpenAI's GPT-4.1 mini; one activity shows a whole Gemini outage graded by
OpenAI.

By default everything is local: emulators of Gemini (Gemini API and Vertex AI), Google
Speech-to-Text / Text-to-Speech, OpenAI chat completions, Whisper and an OpenAI-style speech
API, and an embedded PGlite database. No keys, no network.

Options:
  --real                 call the real services: Gemini (GEMINI_API_KEY), Gemini on Vertex AI
                         (GOOGLE_CLOUD_PROJECT, GOOGLE_CLOUD_LOCATION), Google Cloud Speech
                         and Text-to-Speech (Application Default Credentials, e.g.
                         GOOGLE_APPLICATION_CREDENTIALS), OpenAI for the fallbacks
                         (OPENAI_API_KEY). No faults are injected. Costs real money (cents).
  --database-url URL     store usage rows and session events in this Postgres database
                         (migrated first) instead of the embedded PGlite.
                         With --real, DATABASE_URL is used when this flag is absent.
  --schema NAME          schema for the SDK's tables (default public)
  --no-faults            run the lesson without injected faults
  -h, --help             show this help
`;

const tty = process.stdout.isTTY;
const paint = (code: number) => (s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const bold = paint(1);
const dim = paint(2);
const red = paint(31);
const green = paint(32);
const yellow = paint(33);
const cyan = paint(36);

const out = (line = '') => process.stdout.write(`${line}\n`);

interface Options {
  real: boolean;
  databaseUrl?: string;
  schema: string;
  faults: boolean;
}

function parseOptions(argv: string[]): Options {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        real: { type: 'boolean' },
        'database-url': { type: 'string' },
        schema: { type: 'string' },
        'no-faults': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    process.stderr.write(`demo: ${(e as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
  if (values.help) {
    out(HELP);
    process.exit(0);
  }
  const real = values.real === true;
  const databaseUrl = (values['database-url'] as string | undefined) ?? (real ? process.env.DATABASE_URL || undefined : undefined);
  const schema = (values.schema as string | undefined) ?? 'public';
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    process.stderr.write('demo: --schema must be letters, digits and underscores\n');
    process.exit(2);
  }
  return { real, ...(databaseUrl && { databaseUrl }), schema, faults: !real && values['no-faults'] !== true };
}

function describeAttempt(a: AttemptInfo): string {
  switch (a.outcome) {
    case 'success':
      return green(`${a.providerKey} ok`);
    case 'hedge_lost':
      return yellow(`${a.providerKey} hedge lost`);
    case 'skipped':
      return yellow(`${a.providerKey} skipped (breaker open)`);
    default:
      return red(`${a.providerKey} ${a.errorCode ?? 'error'}`);
  }
}

/** A call of the lesson, for the summary. */
interface LessonCall extends CallReport {
  activity: number;
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const started = Date.now();
  out(bold('Korean Together AI SDK demo: a scripted Korean lesson'));
  out(dim(`policy: ${TUTORING_POLICY_PATH.replace(`${process.cwd()}/`, '')}`));

  if (opts.real && !process.env.GEMINI_API_KEY && !process.env.GOOGLE_API_KEY) {
    process.stderr.write('demo --real: set GEMINI_API_KEY (and Google credentials for Speech / Text-to-Speech)\n');
    process.exit(2);
  }
  if (opts.real && !process.env.GOOGLE_CLOUD_PROJECT) {
    process.stderr.write('demo --real: set GOOGLE_CLOUD_PROJECT (Gemini on Vertex AI grades when the Gemini API fails)\n');
    process.exit(2);
  }

  let emu: Emulators | undefined;
  let providerSet: ProviderSet | undefined;
  let db: Database | undefined;
  // --real: a separate client (no sinks) speaks the learner's scripted answers with a real
  // Google voice, so real STT hears real Korean speech; it is not part of the lesson's usage.
  let learnerVoice: AiClient | undefined;
  let learnerTts: ReturnType<typeof googleTts> | undefined;
  try {
    if (!opts.real) {
      out('• starting the emulators (Gemini API and Vertex AI REST, Google Speech/TTS gRPC, OpenAI chat, Whisper, OpenAI speech) ...');
      emu = await startEmulators();
    }
    out(opts.databaseUrl ? '• connecting to Postgres and migrating the SDK schema ...' : '• starting embedded PGlite and migrating the SDK schema ...');
    db = await openDatabase({ ...(opts.databaseUrl && { databaseUrl: opts.databaseUrl }), schema: opts.schema });
    out(dim(`  database: ${db.kind}, schema ${db.schema}`));

    providerSet = buildProviders(emu ? { kind: 'emulators', endpoints: emu } : { kind: 'real' });
    // Progress from the engine's events: codes and providers only, never request text.
    const events: AiClientEvents = {
      onAttempt: (e) => {
        if (e.outcome === 'error') out(red(`      ✗ ${e.capability} attempt ${e.attempt} on ${e.providerKey} failed: ${e.errorCode} after ${e.latencyMs} ms`));
        if (e.outcome === 'hedge_lost') out(yellow(`      ✗ ${e.capability} attempt ${e.attempt} on ${e.providerKey} lost the hedge race and was aborted after ${e.latencyMs} ms`));
        if (e.outcome === 'skipped') out(yellow(`      ✗ ${e.capability} ${e.providerKey} skipped: circuit breaker open`));
      },
      onRetry: (e) => out(yellow(`      ↻ retrying ${e.providerKey} in ${e.delayMs} ms (${e.errorCode})`)),
      onFallback: (e) => out(yellow(`      → falling back to ${e.providerKey} (${e.errorCode ?? 'no answer'})`)),
      onHedge: (e) => out(yellow(`      ⇉ no answer yet: hedging with ${e.providerKey} beside the slow attempt`)),
      onBreak: (e) => out(red(`      ⚠ circuit breaker ${e.key} opened for ${e.cooldownMs} ms`)),
    };
    // The eval chain's fallbacks on other endpoints and vendors (Vertex AI, OpenAI).
    const providers = { ...providerSet.providers, ...evalFallbacks(providerSet.providers, emu) };
    const client = createAiClient({ policy: tutoringPolicy(), providers, sinks: [db.sink], events });
    if (opts.real) {
      learnerTts = googleTts({ voice: 'ko-KR-Wavenet-C', audioEncoding: 'LINEAR16' });
      learnerVoice = createAiClient({ providers: { learner: learnerTts } });
    }

    const sessionId = randomUUID();
    const calls: LessonCall[] = [];
    const table = (name: string) => qualifiedName(db!.schema, name);

    for (const [i, activity] of LESSON.entries()) {
      const n = i + 1;
      out();
      out(bold(`▶ Activity ${n}/${LESSON.length}: ${activity.title}`));
      const removers: (() => void)[] = [];
      if (opts.faults && emu) {
        for (const f of activity.faults) {
          removers.push(emu.faults.add(f.rule));
          out(cyan(`    ⚡ fault injected: ${f.description}`));
        }
      }
      const activityId = randomUUID();
      await db.query(`INSERT INTO ${table('activities')} (id, title) VALUES ($1, $2)`, [activityId, activity.title]);

      // 1. The tutor speaks the task.
      const spoken = await client.tts.synthesize({ text: activity.prompt }, { sessionId });
      calls.push({ activity: n, capability: 'tts', purpose: 'speak prompt', ok: true, meta: spoken.meta });
      out(`    tutor:   ${activity.prompt}  ${dim(`(${spoken.meta.providerKey}, ${spoken.meta.latencyMs} ms)`)}`);

      // 2. The learner answers out loud: fabricated audio that carries its words.
      let audio: Uint8Array;
      if (learnerVoice) {
        audio = (await learnerVoice.tts.synthesize({ text: activity.learnerAnswer, audioEncoding: 'LINEAR16' })).audio;
      } else {
        audio = synthesizeWav(activity.learnerAnswer, { sampleRateHertz: 16_000 });
      }
      out(`    learner: ${activity.learnerAnswer}  ${dim(`(${(audio.byteLength / 1024).toFixed(0)} KiB of audio${activity.mistake ? `; mistake: ${activity.mistake}` : ''})`)}`);

      // 3-5. Transcribe, grade, reply: the same turn the tutoring server runs for POST /v1/turns.
      const turn = await runTurn(
        { client, db: { queryable: db.queryable, schema: db.schema } },
        { sessionId, activityId, prompt: activity.prompt, expectedAnswer: activity.expectedAnswer, targetFormality: activity.targetFormality, audio: { data: audio, encoding: 'LINEAR16' } },
      );
      for (const c of turn.calls) calls.push({ ...c, activity: n });
      const stt = turn.calls.find((c) => c.capability === 'stt')?.meta;
      out(`    heard:   ${turn.transcript}  ${dim(`(${stt?.providerKey}, ${stt?.latencyMs} ms)`)}`);
      const ev = turn.evaluation;
      if (ev) {
        const verdict = ev.passFail ? green(`${ev.score}/100 pass`) : red(`${ev.score}/100 fail (${ev.primaryErrorType})`);
        out(`    grade:   ${verdict}  ${dim(`(${ev.meta.providerKey}, ${ev.meta.latencyMs} ms)`)}`);
        for (const e of ev.errors.slice(0, 3)) out(dim(`             - ${e.type}: ${e.span ?? ''} → ${e.correction ?? ''}`));
      }
      out(`    tutor:   ${turn.reply.text}  ${dim(turn.reply.tts ? `(${turn.reply.tts.meta.providerKey}, ${turn.reply.tts.meta.latencyMs} ms)` : `(not spoken: ${turn.reply.errorCode})`)}`);
      for (const remove of removers) remove();
    }

    // A live turn: streaming STT and TTS under the same policy (real speech needs --real's voice; skipped there).
    if (!opts.real) {
      out();
      out(bold(`▶ Live activity: ${LIVE.title} (the answer streams in while spoken, the reply streams out)`));
      out(`    tutor:   ${LIVE.prompt}`);
      const live = await runLiveActivity(client, LIVE, sessionId, out);
      for (const c of live.calls) calls.push({ ...c, ok: true, activity: LESSON.length + 1 });
      out(`    heard:   ${live.transcript}  ${dim(`(${live.interims} interim transcripts while speaking)`)}`);
      out(
        `    after the end of speech: final transcript ${live.finalMs.toFixed(0)} ms, grade ${live.gradeMs.toFixed(0)} ms, ` +
          bold(`first reply audio ${live.firstAudioMs.toFixed(0)} ms`),
      );
    }

    out();
    out('• closing the client: waiting for in-flight calls and flushing usage rows ...');
    await client.close();

    printSummary(calls);
    const ok = await printDatabase(db, calls);
    out();
    out(`${ok ? green('✓') : red('✗')} lesson finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (!ok) process.exitCode = 1;
  } finally {
    await learnerVoice?.close();
    await learnerTts?.close();
    await providerSet?.close();
    await emu?.close();
    await db?.close();
  }
}

function printSummary(calls: LessonCall[]): void {
  out();
  out(bold('Calls'));
  const rows = calls.map((c, i) => {
    const meta: ResultMeta | undefined = c.meta;
    const attempts = meta?.attempts ?? c.attempts ?? [];
    return [
      i + 1,
      c.activity,
      c.capability,
      c.purpose,
      meta ? `${meta.providerKey} (${meta.modelId})` : red(`failed: ${c.errorCode}`),
      `${attempts.length}: ${attempts.map(describeAttempt).join(' → ')}`,
      meta?.latencyMs ?? '',
      meta ? meta.costUsd.toFixed(6) : '',
    ];
  });
  out(textTable(['#', 'act', 'capability', 'for', 'provider used', 'attempts (why each failed)', 'latency ms', 'cost USD'], rows));
  const totalMicro = calls.reduce((s, c) => s + usdToMicro(c.meta?.costUsd ?? 0), 0);
  const attempts = calls.reduce((s, c) => s + (c.meta?.attempts.length ?? c.attempts?.length ?? 0), 0);
  const byCap = (cap: Capability) => calls.filter((c) => c.capability === cap).length;
  out(dim(`${calls.length} calls (stt ${byCap('stt')}, eval ${byCap('eval')}, tts ${byCap('tts')}), ${attempts} attempts, total $${microToUsd(totalMicro).toFixed(6)}`));
}

/** Prints the two views and checks that ai_usage_log holds exactly the lesson's attempts and cost. */
async function printDatabase(db: Database, calls: LessonCall[]): Promise<boolean> {
  const view = (name: string) => qualifiedName(db.schema, name);
  out();
  out(bold('v_daily_ai_costs (read back from the database)'));
  const costs = await db.query<Record<string, unknown>>(
    `SELECT to_char(date, 'YYYY-MM-DD') AS date, provider_type, provider_name, total_calls::int, successful_calls::int,
            round(avg_latency_ms::numeric, 1)::text AS avg_latency_ms, total_tokens_in::text, total_tokens_out::text,
            total_audio_duration_ms::text, total_characters::text, total_cost_usd::text
       FROM ${view('v_daily_ai_costs')}`,
  );
  out(textTable(['date', 'provider_type', 'provider_name', 'total_calls', 'successful_calls', 'avg_latency_ms', 'total_tokens_in', 'total_tokens_out', 'total_audio_duration_ms', 'total_characters', 'total_cost_usd'], costs.map((r) => Object.values(r) as string[])));
  out();
  out(bold('v_evaluation_stats (read back from the database)'));
  const evals = await db.query<Record<string, unknown>>(
    `SELECT to_char(date, 'YYYY-MM-DD') AS date, provider, model_id, coalesce(primary_error_type, '(none)') AS primary_error_type,
            round(avg_score::numeric, 1)::text AS avg_score, total_evaluations::int, round(avg_latency_ms::numeric, 1)::text AS avg_latency_ms,
            round(pass_rate::numeric, 2)::text AS pass_rate
       FROM ${view('v_evaluation_stats')} ORDER BY date, provider, model_id, primary_error_type NULLS FIRST`,
  );
  out(textTable(['date', 'provider', 'model_id', 'primary_error_type', 'avg_score', 'total_evaluations', 'avg_latency_ms', 'pass_rate'], evals.map((r) => Object.values(r) as string[])));

  const callIds = calls.map((c) => c.meta?.callId).filter((id): id is string => Boolean(id));
  const [stored] = await db.query<{ rows: number; micro: string | null }>(
    `SELECT count(*)::int AS rows, (sum(estimated_cost_usd) * 1000000)::bigint::text AS micro FROM ${view('ai_usage_log')} WHERE call_id::text = ANY($1::text[])`,
    [callIds],
  );
  const expectedRows = calls.reduce((s, c) => s + (c.meta?.attempts.length ?? 0), 0);
  const expectedMicro = calls.reduce((s, c) => s + usdToMicro(c.meta?.costUsd ?? 0), 0);
  const ok = stored!.rows === expectedRows && Number(stored!.micro ?? 0) === expectedMicro;
  out();
  out(
    `${ok ? green('✓') : red('✗')} ai_usage_log holds ${stored!.rows} rows for the lesson's ${callIds.length} calls (one per attempt; expected ${expectedRows}), ` +
      `total $${microToUsd(Number(stored!.micro ?? 0)).toFixed(6)} (calls above: $${microToUsd(expectedMicro).toFixed(6)})`,
  );
  return ok;
}

main().catch((e: unknown) => {
  // AiError messages are sanitised by the SDK: no keys, no learner text.
  process.stderr.write(`demo failed: ${isAiError(e) ? `${e.code}: ${e.message}` : (e as Error).message}\n`);
  process.exit(1);
});
