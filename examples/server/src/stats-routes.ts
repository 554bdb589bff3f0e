import type { FastifyInstance } from 'fastify';
import type { AiClient } from '@korean-together/core';
import type { Database } from './database.js';
import { statsQuery, type StatsQuery } from './schemas.js';
import { cacheStats, callStats, dailyCosts, evaluationStats, latencyOverWindow, latencyPercentiles } from './stats.js';

/** The read-only stats routes under /v1/stats. */
export function registerStatsRoutes(app: FastifyInstance, deps: { client: AiClient; db: Database }): void {
  const { client, db } = deps;
  app.get<{ Querystring: StatsQuery }>('/v1/stats/costs', { schema: { querystring: statsQuery } }, async (request) => ({ days: request.query.days, rows: await dailyCosts(db, request.query.days) }));
  app.get<{ Querystring: StatsQuery }>('/v1/stats/evaluations', { schema: { querystring: statsQuery } }, async (request) => ({ days: request.query.days, rows: await evaluationStats(db, request.query.days) }));
  app.get<{ Querystring: StatsQuery }>('/v1/stats/latency', { schema: { querystring: statsQuery } }, async (request) => ({
    days: request.query.days,
    rows: await latencyPercentiles(db, request.query.days),
    window: await latencyOverWindow(db, request.query.days),
  }));
  app.get<{ Querystring: StatsQuery }>('/v1/stats/calls', { schema: { querystring: statsQuery } }, async (request) => ({ days: request.query.days, rows: await callStats(db, request.query.days) }));
  app.get<{ Querystring: StatsQuery }>('/v1/stats/cache', { schema: { querystring: statsQuery } }, async (request) => ({ days: request.query.days, rows: await cacheStats(db, request.query.days) }));
  app.get('/v1/stats/breakers', async () => ({ breakers: client.breakerStates() }));
}
