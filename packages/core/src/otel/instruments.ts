// The client's metrics: the two GenAI client histograms as the conventions define them (name,
// unit, bucket boundaries), the SDK's counters (audio seconds, characters, cost, attempts by
// outcome) and gauges read when the reader collects (breaker states, sink backlog and spill).
// The counters are observable: an attempt adds to a cell of its own (one Map lookup by a
// joined key), and the reader reads the cells' totals when it collects. A synchronous counter
// would make the SDK hash the attribute set on every add, which costs more than the rest of an
// attempt's telemetry.
import type { Attributes, BatchObservableResult, Histogram, Meter, Observable, ObservableCounter, ObservableGauge } from '@opentelemetry/api';
import type { ObservedClient } from '../engine/call-observer.js';
import { ATTR, BREAKER_LEVEL } from './attributes.js';

/** gen_ai.client.operation.duration's advised boundaries, seconds. */
const DURATION_BUCKETS_S = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
/** gen_ai.client.token.usage's advised boundaries, tokens. */
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

/** What a sink's stats() may report (the usage-log sinks'); any field may be missing. */
interface SinkStatsLike {
  pending?: unknown;
  spilled?: unknown;
  spillSegments?: unknown;
  dropped?: unknown;
}

/** One attribute set's running totals. */
export interface CounterCell {
  readonly attributes: Attributes;
  attempts: number;
  costMicro: number;
  audioSeconds: number;
  characters: number;
}

export class Instruments {
  readonly duration: Histogram;
  readonly tokens: Histogram;
  private readonly audioSeconds: ObservableCounter;
  private readonly characters: ObservableCounter;
  private readonly costMicro: ObservableCounter;
  private readonly attempts: ObservableCounter;
  private readonly cells = new Map<string, CounterCell>();
  private readonly breakerGauge: ObservableGauge;
  private readonly sinkPending: ObservableGauge;
  private readonly sinkSpillSegments: ObservableGauge;
  private readonly sinkSpilled: ObservableGauge;
  private readonly counters: Observable[];
  private readonly gauges: Observable[];
  private readonly collectCounters = (result: BatchObservableResult): void => this.observeCounters(result);
  private readonly collectGauges = (result: BatchObservableResult): void => this.observeGauges(result);

  constructor(
    private readonly meter: Meter,
    private readonly client: ObservedClient,
  ) {
    this.duration = meter.createHistogram('gen_ai.client.operation.duration', {
      description: 'GenAI operation duration',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    });
    this.tokens = meter.createHistogram('gen_ai.client.token.usage', {
      description: 'Number of input and output tokens used',
      unit: '{token}',
      advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
    });
    this.audioSeconds = meter.createObservableCounter('korean_together.client.audio.duration', { description: 'Seconds of audio billed (STT input, TTS output)', unit: 's' });
    this.characters = meter.createObservableCounter('korean_together.client.characters', { description: 'Characters billed (TTS input)', unit: '{character}' });
    this.costMicro = meter.createObservableCounter('korean_together.client.cost', { description: 'Cost of every attempt, integer micro-dollars', unit: '{micro_usd}' });
    this.attempts = meter.createObservableCounter('korean_together.client.attempts', { description: 'Attempts (and breaker skips) by outcome', unit: '{attempt}' });
    this.breakerGauge = meter.createObservableGauge('korean_together.breaker.state', { description: 'Circuit breaker state: 0 closed, 1 half open, 2 open', unit: '1' });
    this.sinkPending = meter.createObservableGauge('korean_together.sink.pending', { description: 'Usage rows in a sink\'s memory, not yet committed nor spilled', unit: '{row}' });
    this.sinkSpillSegments = meter.createObservableGauge('korean_together.sink.spill.segments', { description: 'Spill segments waiting for replay', unit: '{segment}' });
    this.sinkSpilled = meter.createObservableGauge('korean_together.sink.spilled', { description: 'Rows appended to spill files since the sink started', unit: '{row}' });
    this.counters = [this.attempts, this.costMicro, this.audioSeconds, this.characters];
    this.gauges = [this.breakerGauge, this.sinkPending, this.sinkSpillSegments, this.sinkSpilled];
    meter.addBatchObservableCallback(this.collectCounters, this.counters);
    meter.addBatchObservableCallback(this.collectGauges, this.gauges);
  }

  /**
   * The client closed: the gauges stop reading it. The counters keep reporting their totals, so
   * the last export (the SDK's shutdown, after the client's close) still has every attempt.
   */
  closeGauges(): void {
    this.meter.removeBatchObservableCallback(this.collectGauges, this.gauges);
  }

  /** The meter provider changed: nothing more is reported here. */
  close(): void {
    this.closeGauges();
    this.meter.removeBatchObservableCallback(this.collectCounters, this.counters);
  }

  /** The totals of the attribute set `key` names (made by `attributes()` the first time). */
  cell(key: string, attributes: () => Attributes): CounterCell {
    let cell = this.cells.get(key);
    if (cell === undefined) {
      cell = { attributes: attributes(), attempts: 0, costMicro: 0, audioSeconds: 0, characters: 0 };
      this.cells.set(key, cell);
    }
    return cell;
  }

  private observeCounters(result: BatchObservableResult): void {
    for (const cell of this.cells.values()) {
      result.observe(this.attempts, cell.attempts, cell.attributes);
      if (cell.costMicro > 0) result.observe(this.costMicro, cell.costMicro, cell.attributes);
      if (cell.audioSeconds > 0) result.observe(this.audioSeconds, cell.audioSeconds, cell.attributes);
      if (cell.characters > 0) result.observe(this.characters, cell.characters, cell.attributes);
    }
  }

  private observeGauges(result: BatchObservableResult): void {
    for (const [key, state] of Object.entries(this.client.breakerStates())) {
      result.observe(this.breakerGauge, BREAKER_LEVEL[state], { [ATTR.breakerKey]: key });
    }
    this.client.sinks.forEach((sink, index) => {
      const stats = readStats(sink);
      if (stats === undefined) return;
      const attrs: Attributes = { [ATTR.sinkIndex]: index };
      if (typeof stats.pending === 'number') result.observe(this.sinkPending, stats.pending, attrs);
      if (typeof stats.spillSegments === 'number') result.observe(this.sinkSpillSegments, stats.spillSegments, attrs);
      if (typeof stats.spilled === 'number') result.observe(this.sinkSpilled, stats.spilled, attrs);
    });
  }
}

/** A sink's stats(), when it has one that answers synchronously; a throwing one is left out. */
function readStats(sink: object): SinkStatsLike | undefined {
  const stats = (sink as { stats?: unknown }).stats;
  if (typeof stats !== 'function') return undefined;
  try {
    const out: unknown = stats.call(sink);
    return out !== null && typeof out === 'object' && typeof (out as PromiseLike<unknown>).then !== 'function' ? (out as SinkStatsLike) : undefined;
  } catch {
    return undefined;
  }
}
