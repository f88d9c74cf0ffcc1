import { Counter, Gauge, type Registry } from 'prom-client';

/** What one call on one replica ended as: ok, a failure the outlier detector counts, or the client's own leaving. */
export type ReplicaCallOutcome = 'ok' | 'failed' | 'cancelled';

/**
 * Per-replica series (label `replica`: its position in the model's replica list), in the gateway's Prometheus
 * registry beside the per-model ones. Updated as calls and ejections happen, not sampled.
 */
export class ReplicaMetrics {
  private static readonly byRegistry = new WeakMap<Registry, ReplicaMetrics>();

  /** The one set of replica series of a registry (prom-client refuses a name registered twice). */
  static of(registry: Registry): ReplicaMetrics {
    let metrics = ReplicaMetrics.byRegistry.get(registry);
    if (!metrics) ReplicaMetrics.byRegistry.set(registry, (metrics = new ReplicaMetrics(registry)));
    return metrics;
  }

  private readonly inFlight: Gauge;
  private readonly calls: Counter;
  private readonly failovers: Counter;
  private readonly ejected: Gauge;
  private readonly ejections: Counter;

  private constructor(registry: Registry) {
    const registers = [registry];
    this.inFlight = new Gauge({
      name: 'sluice_replica_in_flight',
      help: 'Calls this gateway has outstanding on the replica now (what routing picks the fewest of).',
      labelNames: ['model', 'replica'],
      registers,
    });
    this.calls = new Counter({
      name: 'sluice_replica_calls_total',
      help: 'Backend calls by replica and outcome (ok, failed, cancelled); a request that failed over makes two.',
      labelNames: ['model', 'replica', 'outcome'],
      registers,
    });
    this.failovers = new Counter({
      name: 'sluice_replica_failovers_total',
      help: 'Calls tried again on another replica after one refused before its first byte, by the replica left.',
      labelNames: ['model', 'replica'],
      registers,
    });
    this.ejected = new Gauge({
      name: 'sluice_replica_ejected',
      help: '1 while the outlier detector keeps the replica out of routing.',
      labelNames: ['model', 'replica'],
      registers,
    });
    this.ejections = new Counter({
      name: 'sluice_replica_ejections_total',
      help: 'Times the replica was ejected for failing calls in a row.',
      labelNames: ['model', 'replica'],
      registers,
    });
  }

  /** Every series of a replica at 0, so that rates exist before its first call. */
  declare(model: string, replica: string): void {
    this.inFlight.labels(model, replica).set(0);
    for (const outcome of ['ok', 'failed', 'cancelled'] satisfies ReplicaCallOutcome[])
      this.calls.labels(model, replica, outcome).inc(0);
    this.failovers.labels(model, replica).inc(0);
    this.ejected.labels(model, replica).set(0);
    this.ejections.labels(model, replica).inc(0);
  }

  setInFlight(model: string, replica: string, calls: number): void {
    this.inFlight.labels(model, replica).set(calls);
  }

  callEnded(model: string, replica: string, outcome: ReplicaCallOutcome): void {
    this.calls.labels(model, replica, outcome).inc();
  }

  failedOver(model: string, replica: string): void {
    this.failovers.labels(model, replica).inc();
  }

  setEjected(model: string, replica: string, ejected: boolean): void {
    this.ejected.labels(model, replica).set(ejected ? 1 : 0);
    if (ejected) this.ejections.labels(model, replica).inc();
  }
}
