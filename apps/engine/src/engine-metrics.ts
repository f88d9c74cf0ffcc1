import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics under TGI's names, so dashboards and alerts written for TGI work on the local engine. */
export class EngineMetrics {
  readonly registry = new Registry();
  readonly requestCount = new Counter({
    name: 'tgi_request_count',
    help: 'Requests received',
    registers: [this.registry],
  });
  readonly requestSuccess = new Counter({
    name: 'tgi_request_success',
    help: 'Requests answered successfully',
    registers: [this.registry],
  });
  readonly requestFailure = new Counter({
    name: 'tgi_request_failure',
    help: 'Failed requests by error type',
    labelNames: ['err'],
    registers: [this.registry],
  });
  readonly requestDuration = seconds(this.registry, 'tgi_request_duration', 'End-to-end request time');
  readonly queueDuration = seconds(this.registry, 'tgi_request_queue_duration', 'Time waiting for a sequence');
  readonly inferenceDuration = seconds(this.registry, 'tgi_request_inference_duration', 'Prefill and decode time');
  readonly timePerToken = new Histogram({
    name: 'tgi_request_mean_time_per_token_duration',
    help: 'Inference time divided by generated tokens',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5],
    registers: [this.registry],
  });
  readonly generatedTokens = tokens(this.registry, 'tgi_request_generated_tokens', 'Tokens generated per request');
  readonly inputLength = tokens(this.registry, 'tgi_request_input_length', 'Prompt tokens per request');
  readonly maxNewTokens = tokens(this.registry, 'tgi_request_max_new_tokens', 'max_new_tokens per request');

  /** `pool` is read at scrape time, so the gauges cost nothing per request. */
  constructor(pool: () => { waiting: number; inUse: number } | undefined) {
    collectDefaultMetrics({ register: this.registry, prefix: 'sluice_engine_' });
    new Gauge({
      name: 'tgi_queue_size',
      help: 'Requests waiting for a free sequence',
      registers: [this.registry],
      collect() {
        this.set(pool()?.waiting ?? 0);
      },
    });
    new Gauge({
      name: 'tgi_batch_current_size',
      help: 'Sequences generating now',
      registers: [this.registry],
      collect() {
        this.set(pool()?.inUse ?? 0);
      },
    });
  }
}

function seconds(registry: Registry, name: string, help: string): Histogram {
  return new Histogram({
    name,
    help,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
}

function tokens(registry: Registry, name: string, help: string): Histogram {
  return new Histogram({
    name,
    help,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096],
    registers: [registry],
  });
}
