import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const DASHBOARD_DIR = fileURLToPath(new URL('../dashboard/', import.meta.url));

/** chart.js's UMD build, from the installed package (served locally: the dashboard needs no CDN). */
export function chartJsUmdPath(): string {
  // The package's exports map does not expose dist/*.umd.*: resolve its main entry and look beside it.
  const main = createRequire(import.meta.url).resolve('chart.js');
  return join(dirname(main), 'chart.umd.min.js');
}

/**
 * GET /dashboard: a monitoring page over the stats endpoints (daily cost by provider and
 * capability, calls and success rate, latency percentiles, evaluation pass rate and error
 * types, breaker states), drawn with chart.js. Files are read once at start-up.
 */
export function registerDashboard(app: FastifyInstance): void {
  const files: Record<string, { body: Buffer; type: string }> = {
    'index.html': { body: readFileSync(join(DASHBOARD_DIR, 'index.html')), type: 'text/html; charset=utf-8' },
    'dashboard.js': { body: readFileSync(join(DASHBOARD_DIR, 'dashboard.js')), type: 'text/javascript; charset=utf-8' },
    'dashboard.css': { body: readFileSync(join(DASHBOARD_DIR, 'dashboard.css')), type: 'text/css; charset=utf-8' },
    'chart.umd.min.js': { body: readFileSync(chartJsUmdPath()), type: 'text/javascript; charset=utf-8' },
  };
  const send = (name: string) => async (_req: unknown, reply: import('fastify').FastifyReply) => {
    const f = files[name]!;
    return reply.header('content-type', f.type).header('cache-control', 'no-cache').send(f.body);
  };
  app.get('/dashboard', send('index.html'));
  app.get('/dashboard/dashboard.js', send('dashboard.js'));
  app.get('/dashboard/dashboard.css', send('dashboard.css'));
  app.get('/dashboard/vendor/chart.umd.min.js', send('chart.umd.min.js'));
}
