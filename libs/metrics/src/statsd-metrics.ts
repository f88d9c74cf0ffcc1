import { StatsD } from 'hot-shots';
import type { RequestRecord } from './request-record.js';
import { STATSD_KEYS } from './statsd-keys.js';
import { CounterBatch } from './counter-batch.js';

export interface StatsdSettings {
  host: string;
  port: number;
  /** Put before every key; empty by default so the keys are exactly the user's (`requests.total`). */
  prefix: string;
  /**
   * Bytes buffered before a datagram goes out (also sent every `flushIntervalMs`). Buffering is what keeps UDP
   * from dropping metrics under load: one datagram per ~30 metrics instead of one per metric.
   */
  maxBufferBytes: number;
  flushIntervalMs: number;
}

export const STATSD_DEFAULTS: StatsdSettings = {
  host: '127.0.0.1',
  port: 8125,
  prefix: '',
  maxBufferBytes: 1400,
  flushIntervalMs: 1000,
};

/**
 * hot-shots' own `send`, which each of its metric methods ends in (untyped; the version is pinned, and
 * statsd-metrics.int.ts reads what it puts on the wire): the buffered path for lines already in StatsD's format.
 */
interface RawSend {
  send(message: string): void;
}

/** The keys of one model, built once: the hot path only looks them up. */
interface ModelKeys {
  requests: string;
  inputTokens: string;
  outputTokens: string;
  /** `<prefix><key>:` of its latency timer. */
  latencyTimer: string;
  errors: Map<string, string>;
  /** The model's counter sums since the last send: a field's addition per request, where a map would hash a key. */
  sums: { requests: number; inputTokens: number; outputTokens: number };
}

/** Sends each request's facts to a StatsD daemon under the user's keys (see statsd-keys.ts) through hot-shots. */
export class StatsdMetrics {
  private readonly client: StatsD;
  private readonly modelKeys = new Map<string, ModelKeys>();
  /**
   * Counters are summed here and sent once a flush interval: per request only the timers go on the wire. Every
   * request's own counters are fields (this one, and each model's `sums`); the batch holds the errors' counters.
   */
  private requestsTotal = 0;
  private readonly counters = new CounterBatch();
  private readonly counterTimer: NodeJS.Timeout;
  private readonly prefix: string;
  /**
   * Requests' timer lines not yet handed to hot-shots, up to a datagram's worth: hot-shots measures its whole buffer's
   * bytes again on every message it is given, so it gets one message per datagram instead of one per request.
   */
  private timerBatch = '';
  private timerBatchBytes = 0;
  private readonly maxTimerBatchBytes: number;
  /** Every key is ASCII (model ids are made so; a prefix may not be): a line's length is then its size in bytes. */
  private readonly asciiKeys: boolean;

  /** `<prefix><key>:` of each per-request timer, made once. */
  private readonly timerPrefix: Record<'requestLatency' | 'queueWait' | 'timeToFirstToken' | 'gatewayOverhead', string>;

  /** `beforeFlush`: hands over what is held elsewhere for this flush (GatewayMetrics' finished requests). */
  constructor(
    settings: StatsdSettings,
    onError: (error: Error) => void,
    private readonly beforeFlush: () => void = () => {},
  ) {
    const prefix = settings.prefix === '' || settings.prefix.endsWith('.') ? settings.prefix : `${settings.prefix}.`;
    this.prefix = prefix;
    this.maxTimerBatchBytes = settings.maxBufferBytes;
    this.asciiKeys = Buffer.byteLength(prefix) === prefix.length;
    this.timerPrefix = {
      requestLatency: `${prefix}${STATSD_KEYS.requestLatency}:`,
      queueWait: `${prefix}${STATSD_KEYS.queueWait}:`,
      timeToFirstToken: `${prefix}${STATSD_KEYS.timeToFirstToken}:`,
      gatewayOverhead: `${prefix}${STATSD_KEYS.gatewayOverhead}:`,
    };
    // Made before the client, whose buffer flushes on a timer of the same period: this one fires first in each round,
    // so what it hands over goes out in the same round, not one later.
    this.counterTimer = setInterval(() => {
      this.beforeFlush();
      this.sendTimers();
      this.sendCounters();
    }, settings.flushIntervalMs);
    this.counterTimer.unref();
    this.client = new StatsD({
      host: settings.host,
      port: settings.port,
      prefix,
      maxBufferSize: settings.maxBufferBytes,
      bufferFlushInterval: settings.flushIntervalMs,
      cacheDns: true,
      errorHandler: onError,
    });
  }

  /**
   * Costs the hot path a few microseconds (npm run bench:metrics): counters are batched, timer values rounded to
   * 0.01 ms (fewer bytes, same meaning), and requests' timer lines are batched up to a datagram, which hot-shots gets
   * as one message (each message it is given re-measures its whole buffer: five per request were 5 % of the gateway's
   * CPU). The batch goes out when full, every flush interval, and on close.
   */
  recordRequest(record: RequestRecord): void {
    const { counters, timerPrefix } = this;
    const latency = round(record.latencyMs);
    this.requestsTotal += 1;
    let timers = `${timerPrefix.requestLatency}${latency}|ms`;
    const keys = record.modelId === null ? undefined : this.keysOf(record.modelId);
    if (keys) {
      keys.sums.requests += 1;
      timers += `\n${keys.latencyTimer}${latency}|ms`;
    }
    if (record.outcome !== 'ok') {
      counters.add(STATSD_KEYS.errors(record.outcome), 1);
      if (keys) counters.add(this.modelErrorKey(keys, record.modelId as string, record.outcome), 1);
    }
    if (keys && record.inputTokens !== undefined) keys.sums.inputTokens += record.inputTokens;
    if (keys && record.outputTokens !== undefined) keys.sums.outputTokens += record.outputTokens;
    if (record.queueMs !== undefined) timers += `\n${timerPrefix.queueWait}${round(record.queueMs)}|ms`;
    if (record.timeToFirstTokenMs !== undefined)
      timers += `\n${timerPrefix.timeToFirstToken}${round(record.timeToFirstTokenMs)}|ms`;
    if (record.overheadMs !== undefined) timers += `\n${timerPrefix.gatewayOverhead}${round(record.overheadMs)}|ms`;
    this.batchTimers(timers);
  }

  /** Adds a request's timer lines to the batch, sending the batch first if they would not fit. */
  private batchTimers(timers: string): void {
    const bytes = this.asciiKeys ? timers.length : Buffer.byteLength(timers);
    if (this.timerBatch !== '' && this.timerBatchBytes + 1 + bytes > this.maxTimerBatchBytes) this.sendTimers();
    if (this.timerBatch === '') {
      this.timerBatch = timers;
      this.timerBatchBytes = bytes;
    } else {
      this.timerBatch += `\n${timers}`;
      this.timerBatchBytes += 1 + bytes;
    }
  }

  private sendTimers(): void {
    if (this.timerBatch === '') return;
    (this.client as unknown as RawSend).send(this.timerBatch);
    this.timerBatch = '';
    this.timerBatchBytes = 0;
  }

  gauge(key: string, value: number): void {
    this.client.gauge(key, value);
  }

  /** Sends the batched counters and what hot-shots has buffered, then closes the socket. */
  close(): Promise<void> {
    clearInterval(this.counterTimer);
    this.beforeFlush();
    this.sendTimers();
    this.sendCounters();
    return new Promise((resolve) => this.client.close(() => resolve()));
  }

  private sendCounters(): void {
    this.sendSum(STATSD_KEYS.requestsTotal, this.requestsTotal);
    this.requestsTotal = 0;
    for (const { requests, inputTokens, outputTokens, sums } of this.modelKeys.values()) {
      this.sendSum(requests, sums.requests);
      this.sendSum(inputTokens, sums.inputTokens);
      this.sendSum(outputTokens, sums.outputTokens);
      sums.requests = sums.inputTokens = sums.outputTokens = 0;
    }
    for (const [key, sum] of this.counters.drain()) this.client.increment(key, sum);
  }

  /** A counter's sum since the last send; none for zero, as StatsD would add nothing. */
  private sendSum(key: string, sum: number): void {
    if (sum !== 0) this.client.increment(key, sum);
  }

  private keysOf(model: string): ModelKeys {
    let keys = this.modelKeys.get(model);
    if (!keys) {
      keys = {
        requests: STATSD_KEYS.requestsForModel(model),
        inputTokens: STATSD_KEYS.inputTokens(model),
        outputTokens: STATSD_KEYS.outputTokens(model),
        latencyTimer: `${this.prefix}${STATSD_KEYS.modelLatency(model)}:`,
        errors: new Map(),
        sums: { requests: 0, inputTokens: 0, outputTokens: 0 },
      };
      this.modelKeys.set(model, keys);
    }
    return keys;
  }

  private modelErrorKey(keys: ModelKeys, model: string, type: string): string {
    let key = keys.errors.get(type);
    if (!key) {
      key = STATSD_KEYS.modelErrors(model, type);
      keys.errors.set(type, key);
    }
    return key;
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;
