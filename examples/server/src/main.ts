// The tutoring API server's entry point: `node --import tsx examples/server/src/main.ts`.
// Reads the environment (see config.ts), migrates the database, listens on PORT (5000), and
// stops gracefully on SIGTERM / SIGINT: a second signal forces the exit.

import { createTutoringServer } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { emulatorEndpoints } from './providers.js';
import { startTelemetry, telemetryFromEnv } from './telemetry.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  // OpenTelemetry when OTEL_EXPORTER_OTLP_ENDPOINT is set (before the server, so its spans are traced).
  const telemetryOptions = telemetryFromEnv();
  const telemetry = telemetryOptions && startTelemetry(telemetryOptions);
  const server = await createTutoringServer({
    ...(telemetry && { telemetry }),
    database: {
      ...(config.databaseUrl && { databaseUrl: config.databaseUrl }),
      schema: config.dbSchema,
      ...(config.pgliteDataDir && { pgliteDataDir: config.pgliteDataDir }),
      ...(config.usageSpillDir && { spillDir: config.usageSpillDir }),
    },
    backend: config.backend === 'real' ? { kind: 'real', ...(config.vertex && { vertex: config.vertex }) } : { kind: 'emulators', endpoints: emulatorEndpoints(config.emulators) },
    ...(config.policyFile && { policy: config.policyFile }),
    logger: { level: config.logLevel },
    shutdownDeadlineMs: config.shutdownDeadlineMs,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    databaseTimeouts: config.db,
  });
  const log = server.app.log;

  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn(`${signal} again: forcing exit`);
      process.exit(130);
    }
    signalled = true;
    log.info(`${signal}: shutting down (in-flight requests get ${config.shutdownDeadlineMs} ms; exit within ${config.shutdownTimeoutMs} ms)`);
    // shutdown() is bounded by shutdownTimeoutMs, whatever the database does; exiting explicitly
    // also ends sockets a partitioned database never closes.
    server.shutdown().then(
      async ({ forced }) => {
        // The last spans and metrics go out before the exit, within 2 s (a collector that is down must not hold the exit).
        if (telemetry) await Promise.race([telemetry.shutdown().catch(() => {}), new Promise((done) => setTimeout(done, 2_000).unref())]);
        log.info(forced ? 'stopped after cutting in-flight calls or the closing short' : 'stopped cleanly; usage rows flushed');
        process.exit(forced ? 1 : 0);
      },
      (e: unknown) => {
        log.error(`shutdown failed: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  await server.app.listen({ port: config.port, host: config.host });
  log.info(`database: ${server.db.kind} (schema ${server.db.schema}); AI backend: ${config.backend}`);
}

main().catch((e: unknown) => {
  // Start-up failures (database unreachable, bad policy) name what failed; exit non-zero so the supervisor stops.
  console.error(`tutoring server failed to start: ${(e as Error).message}`);
  process.exit(1);
});
