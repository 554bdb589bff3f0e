// Every public export of @korean-together/usage-log, by name.
export { createPostgresSink } from './postgres-sink.js';
export type { PostgresSink, PostgresSinkOptions, PgPoolLike } from './postgres-sink.js';
export { createPgliteSink } from './pglite-sink.js';
export type { PgliteSinkOptions, PgliteDbLike } from './pglite-sink.js';
export type { BufferedSinkOptions, UsageSinkStats } from './buffered-sink.js';
export { UsageLogError } from './usage-log-error.js';
export type { UsageLogErrorReason, UsageLogErrorOptions } from './usage-log-error.js';
export { createJsonlSink } from './jsonl-sink.js';
export type { JsonlSink, JsonlSinkOptions, JsonlSinkStats } from './jsonl-sink.js';
export { createMemorySink } from './memory-sink.js';
export type { MemorySink } from './memory-sink.js';
export { writeSessionEvent, ensureSession } from './session-events.js';
export type { SessionEventInput, SessionInput, TableOptions, QueryableLike } from './session-events.js';
export { normalizeUsage, rowToRecord, MAX_ERROR_MESSAGE } from './usage-row.js';
export type { UsageRow, NormalizeResult } from './usage-row.js';
export { createPostgresBudgetStore, PostgresBudgetStore } from './postgres-budget-store.js';
export type { PostgresBudgetStoreOptions, PgBudgetPoolLike, PgBudgetClientLike } from './postgres-budget-store.js';
