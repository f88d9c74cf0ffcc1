import { Counter, Gauge, type Registry } from 'prom-client';
import { PendingCount } from './pending-count.js';

/** What one call on one replica ended as: ok, a failure the outlier detector counts, or the client's own leaving. */
export type ReplicaCallOutcome = 'ok' | 'failed' | 'cancelled';

/** What every per-replica series is made of: the labels `model`, `replica` and its own. */
interface SeriesConfiguration {
  name: string;
  help: string;
  labelNames: string[];
  registers: Registry[];
}

/** The series every call of a replica updates. */
interface ReplicaChildren {
  /** The replica's calls in flight, set on each call's start and end and handed to its gauge when /metrics is read. */
  inFlightNow: number;
  inFlight: Gauge.Internal<string>;
  calls: Record<ReplicaCallOutcome, PendingCount>;
}

/**
 * Per-replica series (label `replica`: its number in /models), in the gateway's Prometheus
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
  private readonly children = new Map<string, ReplicaChildren>();

  private constructor(registry: Registry) {
    const perReplica = <Metric>(
      Kind: new (configuration: SeriesConfiguration) => Metric,
      name: string,
      help: string,
      labelNames: string[] = [],
    ): Metric => new Kind({ name, help, labelNames: ['model', 'replica', ...labelNames], registers: [registry] });
    this.inFlight = new Gauge({
      name: 'sluice_replica_in_flight',
      help: 'Calls this gateway has outstanding on the replica now (what routing picks the fewest of).',
      labelNames: ['model', 'replica'],
      registers: [registry],
      // Read when /metrics is, not set on every call: a gauge's `set` hashes its labels each time.
      collect: () => {
        for (const children of this.children.values()) children.inFlight.set(children.inFlightNow);
      },
    });
    this.calls = new Counter({
      name: 'sluice_replica_calls_total',
      help: 'Backend calls by replica and outcome (ok, failed, cancelled); a request that failed over makes two.',
      labelNames: ['model', 'replica', 'outcome'],
      registers: [registry],
      collect: () => {
        for (const { calls } of this.children.values()) PendingCount.flushAll(Object.values(calls));
      },
    });
    this.failovers = perReplica(
      Counter,
      'sluice_replica_failovers_total',
      'Calls tried again on another replica after one refused before its first byte, by the replica left.',
    );
    this.ejected = perReplica(
      Gauge,
      'sluice_replica_ejected',
      '1 while the outlier detector keeps the replica out of routing.',
    );
    this.ejections = perReplica(
      Counter,
      'sluice_replica_ejections_total',
      'Times the replica was ejected for failing calls in a row.',
    );
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

  /** Every series of a replica that has gone (a discovered address no longer in DNS). */
  forget(model: string, replica: string): void {
    this.children.delete(`${model}\u0000${replica}`);
    for (const metric of [this.inFlight, this.failovers, this.ejected, this.ejections])
      metric.remove({ model, replica });
    for (const outcome of ['ok', 'failed', 'cancelled'] satisfies ReplicaCallOutcome[])
      this.calls.remove({ model, replica, outcome });
  }

  setInFlight(model: string, replica: string, calls: number): void {
    this.childrenOf(model, replica).inFlightNow = calls;
  }

  callEnded(model: string, replica: string, outcome: ReplicaCallOutcome): void {
    this.childrenOf(model, replica).calls[outcome].add();
  }

  /** Every call sets these: their labelled children are found once, not hashed from their labels per call. */
  private childrenOf(model: string, replica: string): ReplicaChildren {
    const key = `${model}\u0000${replica}`;
    let children = this.children.get(key);
    if (children === undefined) {
      children = {
        inFlightNow: 0,
        inFlight: this.inFlight.labels(model, replica),
        calls: {
          ok: new PendingCount(this.calls.labels(model, replica, 'ok')),
          failed: new PendingCount(this.calls.labels(model, replica, 'failed')),
          cancelled: new PendingCount(this.calls.labels(model, replica, 'cancelled')),
        },
      };
      this.children.set(key, children);
    }
    return children;
  }

  failedOver(model: string, replica: string): void {
    this.failovers.labels(model, replica).inc();
  }

  setEjected(model: string, replica: string, ejected: boolean): void {
    this.ejected.labels(model, replica).set(ejected ? 1 : 0);
    if (ejected) this.ejections.labels(model, replica).inc();
  }
}
