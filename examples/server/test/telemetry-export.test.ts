// The example server's OpenTelemetry export end to end: the Node SDK with the OTLP/HTTP
// exporters sends to a small OTLP receiver on 127.0.0.1 (an HTTP server decoding the JSON
// export), and a turn whose STT fails over from Google to Whisper arrives as one trace: the
// request span parents the turn's three calls, each with its attempts.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesizeWav } from '@korean-together/providers/emulators';
import { startTelemetry, telemetryFromEnv, type ServerTelemetry } from '../src/telemetry.js';
import { startStack, TEST_API_KEY, type Stack } from './stack.js';

const LEARNER_SAID = '저는 학생이에요';

interface OtlpValue { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean }
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: OtlpValue }[];
  events?: { name: string; attributes?: { key: string; value: OtlpValue }[] }[];
}

/** A minimal OTLP/HTTP receiver: keeps every JSON body posted to /v1/traces and /v1/metrics. */
class OtlpReceiver {
  readonly bodies = { traces: [] as string[], metrics: [] as string[] };
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void read(req).then((body) => {
        if (req.url === '/v1/traces') this.bodies.traces.push(body);
        else if (req.url === '/v1/metrics') this.bodies.metrics.push(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${address.port}`;
  }

  spans(): OtlpSpan[] {
    return this.bodies.traces.flatMap((b) => (JSON.parse(b) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] }).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
  }

  metricNames(): string[] {
    return this.bodies.metrics.flatMap((b) => (JSON.parse(b) as { resourceMetrics: { scopeMetrics: { metrics: { name: string }[] }[] }[] }).resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.name))));
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

async function read(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  return (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
}

const attr = (s: OtlpSpan, key: string): unknown => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v === undefined ? undefined : (v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.doubleValue ?? v.boolValue);
};

/** The trace as an indented tree (one line per span: name, duration, the attributes that tell the story, events). */
function renderTree(spans: OtlpSpan[], root: OtlpSpan): string {
  const lines: string[] = [];
  const ms = (s: OtlpSpan) => ((Number(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)) / 1e6).toFixed(0));
  const keys = ['http.response.status_code', 'gen_ai.provider.name', 'gen_ai.response.model', 'korean_together.attempt.number', 'korean_together.attempt.outcome', 'error.type', 'korean_together.attempt.retry_delay_ms', 'gen_ai.usage.input_tokens', 'gen_ai.usage.output_tokens', 'gen_ai.speech.audio.duration', 'korean_together.cost.usd'];
  const visit = (s: OtlpSpan, depth: number): void => {
    const shown = keys.filter((k) => attr(s, k) !== undefined).map((k) => `${k}=${String(attr(s, k))}`);
    lines.push(`${'  '.repeat(depth)}${s.name} (${ms(s)} ms) ${shown.join(' ')}`.trimEnd());
    for (const e of s.events ?? []) lines.push(`${'  '.repeat(depth + 1)}event ${e.name} ${(e.attributes ?? []).map((a) => `${a.key}=${String(a.value.stringValue ?? a.value.intValue ?? a.value.doubleValue ?? a.value.boolValue)}`).join(' ')}`.trimEnd());
    const kids = spans.filter((k) => k.parentSpanId === s.spanId).sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
    for (const k of kids) visit(k, depth + 1);
  };
  visit(root, 0);
  return lines.join('\n');
}

describe('example server: OpenTelemetry export over OTLP/HTTP', () => {
  const receiver = new OtlpReceiver();
  let telemetry: ServerTelemetry;
  let s: Stack;

  beforeAll(async () => {
    await receiver.start();
    const options = telemetryFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_METRIC_EXPORT_INTERVAL: '3600000' });
    expect(options).toEqual({ endpoint: receiver.url, metricIntervalMs: 3_600_000 });
    expect(telemetryFromEnv({})).toBeUndefined();
    telemetry = startTelemetry(options!);
    s = await startStack({ label: 'telemetry-export', telemetry });
  });
  afterAll(async () => {
    await s?.close();
    await receiver.close();
  });

  it('a failing-over turn is one trace: the request span parents the three calls, STT shows Google failing and Whisper answering', async () => {
    s.emu.faults.add({ target: 'google-stt', fault: { kind: 'status', status: 14 } });
    const r = await s.post('/v1/turns', { prompt: '자기소개를 하세요 (격식체)', expectedAnswer: '저는 학생입니다', targetFormality: 'hapsyo', audio: Buffer.from(synthesizeWav(LEARNER_SAID)).toString('base64'), encoding: 'LINEAR16' });
    expect(r.status).toBe(200);
    // Shutting the server and then the SDK down exports every span and the metrics.
    await s.close();
    await telemetry.shutdown();

    const spans = receiver.spans();
    const request = spans.find((x) => x.name === 'POST /v1/turns');
    expect(request).toBeDefined();
    expect(request!.kind).toBe(2); // SPAN_KIND_SERVER
    const calls = spans.filter((x) => x.parentSpanId === request!.spanId);
    expect(calls.map((c) => attr(c, 'gen_ai.operation.name')).sort()).toEqual(['generate_content', 'speech_to_text', 'text_to_speech']);
    for (const c of calls) expect(c.traceId).toBe(request!.traceId);
    const stt = calls.find((c) => attr(c, 'gen_ai.operation.name') === 'speech_to_text')!;
    expect(attr(stt, 'gen_ai.provider.name')).toBe('openai');
    const sttAttempts = spans.filter((x) => x.parentSpanId === stt.spanId);
    expect(sttAttempts.some((a) => attr(a, 'korean_together.provider.key') === 'google-stt' && attr(a, 'error.type') === 'unavailable')).toBe(true);
    expect(sttAttempts.some((a) => attr(a, 'korean_together.provider.key') === 'whisper' && attr(a, 'korean_together.attempt.outcome') === 'success')).toBe(true);
    expect(stt.events?.some((e) => e.name === 'korean_together.fallback')).toBe(true);
    const grade = calls.find((c) => attr(c, 'gen_ai.operation.name') === 'generate_content')!;
    expect(grade.events?.find((e) => e.name === 'gen_ai.evaluation.result')).toBeDefined();

    expect(receiver.metricNames()).toEqual(expect.arrayContaining(['gen_ai.client.operation.duration', 'gen_ai.client.token.usage', 'korean_together.client.attempts', 'korean_together.client.cost']));
    // Neither the learner's words nor the key left the process.
    const exported = receiver.bodies.traces.join('\n') + receiver.bodies.metrics.join('\n');
    expect(exported).not.toContain(LEARNER_SAID);
    expect(exported).not.toContain(TEST_API_KEY);

    // The trace as docs/TELEMETRY.md shows it.
    const tree = renderTree(spans, request!);
    expect(tree.split('\n').length).toBeGreaterThan(6);
    if (process.env.TELEMETRY_TRACE_OUT) writeFileSync(process.env.TELEMETRY_TRACE_OUT, `${tree}\n`);
  });
});
