// @korean-together/core/otel: OpenTelemetry traces and metrics of every call. The only part of
// the SDK that imports @opentelemetry/api (an optional peer dependency).
export { openTelemetry, INSTRUMENTATION_SCOPE } from './open-telemetry.js';
export type { OpenTelemetryOptions } from './open-telemetry.js';
export type { RecordContent } from './content.js';
export { ATTR as TELEMETRY_ATTRIBUTES, genAiProviderName, operationName } from './attributes.js';
export { usdString } from './call-trace.js';
