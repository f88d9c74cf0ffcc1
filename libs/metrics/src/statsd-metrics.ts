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

/** The keys of one model, built once: the hot path only looks them up. */
interface ModelKeys {
  requests: string;
  inputTokens: string;
  outputTokens: string;
  latency: string;
  errors: Map<string, string>;
}

/** Sends each request's facts to a StatsD daemon under the user's keys (see statsd-keys.ts) through hot-shots. */
export class StatsdMetrics {
  private readonly client: StatsD;
  private readonly modelKeys = new Map<string, ModelKeys>();
  /** Counters are summed here and sent once a flush interval: per request only the timers go on the wire. */
  private readonly counters = new CounterBatch();
  private readonly counterTimer: NodeJS.Timeout;

  constructor(settings: StatsdSettings, onError: (error: Error) => void) {
    this.client = new StatsD({
      host: settings.host,
      port: settings.port,
      prefix: settings.prefix === '' || settings.prefix.endsWith('.') ? settings.prefix : `${settings.prefix}.`,
      maxBufferSize: settings.maxBufferBytes,
      bufferFlushInterval: settings.flushIntervalMs,
      cacheDns: true,
      errorHandler: onError,
    });
    this.counterTimer = setInterval(() => this.sendCounters(), settings.flushIntervalMs);
    this.counterTimer.unref();
  }

  /**
   * Costs the hot path a few microseconds (npm run bench:metrics): what is paid per call is mostly the UDP send,
   * so counters are batched and timer values rounded to 0.01 ms (fewer bytes, same meaning).
   */
  recordRequest(record: RequestRecord): void {
    const { client, counters } = this;
    const latency = round(record.latencyMs);
    counters.add(STATSD_KEYS.requestsTotal, 1);
    client.timing(STATSD_KEYS.requestLatency, latency);
    const keys = record.modelId === null ? undefined : this.keysOf(record.modelId);
    if (keys) {
      counters.add(keys.requests, 1);
      client.timing(keys.latency, latency);
    }
    if (record.outcome !== 'ok') {
      counters.add(STATSD_KEYS.errors(record.outcome), 1);
      if (keys) counters.add(this.modelErrorKey(keys, record.modelId as string, record.outcome), 1);
    }
    if (keys && record.inputTokens !== undefined) counters.add(keys.inputTokens, record.inputTokens);
    if (keys && record.outputTokens !== undefined) counters.add(keys.outputTokens, record.outputTokens);
    if (record.queueMs !== undefined) client.timing(STATSD_KEYS.queueWait, round(record.queueMs));
    if (record.timeToFirstTokenMs !== undefined)
      client.timing(STATSD_KEYS.timeToFirstToken, round(record.timeToFirstTokenMs));
    if (record.overheadMs !== undefined) client.timing(STATSD_KEYS.gatewayOverhead, round(record.overheadMs));
  }

  gauge(key: string, value: number): void {
    this.client.gauge(key, value);
  }

  /** Sends the batched counters and what hot-shots has buffered, then closes the socket. */
  close(): Promise<void> {
    clearInterval(this.counterTimer);
    this.sendCounters();
    return new Promise((resolve) => this.client.close(() => resolve()));
  }

  private sendCounters(): void {
    for (const [key, sum] of this.counters.drain()) this.client.increment(key, sum);
  }

  private keysOf(model: string): ModelKeys {
    let keys = this.modelKeys.get(model);
    if (!keys) {
      keys = {
        requests: STATSD_KEYS.requestsForModel(model),
        inputTokens: STATSD_KEYS.inputTokens(model),
        outputTokens: STATSD_KEYS.outputTokens(model),
        latency: STATSD_KEYS.modelLatency(model),
        errors: new Map(),
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
