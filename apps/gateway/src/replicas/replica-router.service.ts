import { Inject, Injectable } from '@nestjs/common';
import type { ProbeResult } from '#backends';
import { GatewayMetrics, ReplicaMetrics, type ReplicaCallOutcome } from '#metrics';
import { ModelRegistry, type ModelEntry } from '#model-registry';
import { BackendDirectory } from '../backends/backend-directory.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway-config.js';
import { OutlierDetector, OutlierRecord } from './outlier-detector.js';
import { rendezvousRank } from './prompt-prefix.js';

/** What this gateway knows of one replica beyond its health: its outstanding calls and its outlier record. */
interface ReplicaTraffic {
  inFlight: number;
  readonly outlier: OutlierRecord;
  lastCallError: { message: string; at: Date } | null;
  /** A replica that has gone (DNS discovery): resolved once its last call in flight has ended. */
  drained?: () => void;
}

interface ModelTraffic {
  /** By replica number (a discovered replica's is never reused). */
  readonly replicas: Map<number, ReplicaTraffic>;
  /** The replica number the next tie is broken from: round-robin among replicas equally loaded. */
  cursor: number;
}

/** One replica as GET /models shows it. */
export interface ReplicaView {
  replica: number;
  address: string | null;
  state: ModelEntry['state'];
  inFlight: number;
  ejected: boolean;
  ejectedUntil: Date | null;
  ejections: number;
  lastError: { message: string; at: Date } | null;
}

/**
 * Picks the replica each backend call goes to — the ready one with the fewest calls outstanding from this gateway,
 * ties round-robin — and keeps the outlier records that take a failing replica out of that choice (OutlierDetector).
 */
@Injectable()
export class ReplicaRouter {
  private readonly traffic = new Map<string, ModelTraffic>();
  private readonly detector: OutlierDetector;
  private readonly metrics: ReplicaMetrics;

  constructor(
    @Inject(ModelRegistry) private readonly registry: ModelRegistry,
    @Inject(BackendDirectory) private readonly directory: BackendDirectory,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(GatewayMetrics) gatewayMetrics: GatewayMetrics,
  ) {
    this.detector = new OutlierDetector({
      failures: config.outlierFailures,
      ejectionMs: config.outlierEjectionMs,
      maxEjectionMs: config.outlierMaxEjectionMs,
    });
    this.metrics = ReplicaMetrics.of(gatewayMetrics.prometheus.registry);
    for (const model of registry.list()) {
      this.traffic.set(model.id, { replicas: new Map(), cursor: 0 });
      for (const { replica } of registry.replicas(model.id)) this.replica(model.id, replica);
    }
  }

  /**
   * The replica for the next call, none of `tried`: a ready one that is not ejected, the fewest calls outstanding
   * first. With none of those left, an ejected one that is ready (Envoy's panic routing: better a suspect replica
   * than a certain refusal). A model of one replica is always its own choice once it has an address: whether it
   * serves is the readiness gate's call. Under `routing: prefix`, `prefix` (the prompt's start, prompt-prefix.ts)
   * names a preferred replica, taken while it has fewer than max_concurrent calls outstanding.
   */
  pick(modelId: string, tried: ReadonlySet<number>, prefix?: string): number | undefined {
    const model = this.model(modelId);
    const entries = this.registry.replicas(modelId);
    const open = entries.filter(
      (entry) => !tried.has(entry.replica) && this.directory.get(modelId, entry.replica) !== undefined,
    );
    if (entries.length === 1) return open[0]?.replica;
    const ready = open.filter((entry) => entry.state === 'ready');
    const healthy = ready.filter((entry) => !this.replica(modelId, entry.replica).outlier.ejected);
    const candidates = healthy.length > 0 ? healthy : ready;
    if (candidates.length === 0) return undefined;
    const { routing, maxConcurrent } = entries[0]!.descriptor;
    if (routing === 'prefix' && prefix !== undefined) {
      const preferred = candidates.reduce((best, entry) =>
        rendezvousRank(prefix, entry.replica) > rendezvousRank(prefix, best.replica) ? entry : best,
      );
      if (this.replica(modelId, preferred.replica).inFlight < maxConcurrent) return preferred.replica;
    }
    const inFlight = (entry: ModelEntry) => this.replica(modelId, entry.replica).inFlight;
    const fewest = Math.min(...candidates.map(inFlight));
    const tied = candidates.filter((entry) => inFlight(entry) === fewest).map((entry) => entry.replica);
    // The first tied replica at or after the cursor, cyclically.
    const chosen = tied.filter((replica) => replica >= model.cursor).sort((a, b) => a - b)[0] ?? Math.min(...tied);
    model.cursor = chosen + 1;
    return chosen;
  }

  callStarted(modelId: string, replica: number): void {
    const traffic = this.replica(modelId, replica);
    traffic.inFlight += 1;
    this.metrics.setInFlight(modelId, String(replica), traffic.inFlight);
  }

  /** A call's end: a failure counts towards ejecting the replica, a success clears its run of failures. */
  callEnded(modelId: string, replica: number, outcome: ReplicaCallOutcome, error?: Error): void {
    const model = this.model(modelId);
    const traffic = this.replica(modelId, replica);
    traffic.inFlight -= 1;
    const label = String(replica);
    this.metrics.setInFlight(modelId, label, traffic.inFlight);
    this.metrics.callEnded(modelId, label, outcome);
    if (traffic.inFlight === 0) traffic.drained?.();
    if (outcome === 'ok') this.detector.success(traffic.outlier);
    if (outcome !== 'failed') return;
    traffic.lastCallError = { message: error?.message ?? 'call failed', at: new Date() };
    const peers = [...model.replicas.values()].map((peer) => peer.outlier);
    if (this.detector.failure(traffic.outlier, peers)) this.metrics.setEjected(modelId, label, true);
  }

  failedOver(modelId: string, replica: number): void {
    this.metrics.failedOver(modelId, String(replica));
  }

  /** Each health probe of a replica (from the readiness monitor): an ejected replica whose time is up comes back. */
  recordProbe(entry: ModelEntry, probe: ProbeResult): void {
    const traffic = this.replica(entry.id, entry.replica);
    if (this.detector.probe(traffic.outlier, probe === 'ready'))
      this.metrics.setEjected(entry.id, String(entry.replica), false);
  }

  /**
   * A replica that has gone (out of the registry's replicas, so never picked again): resolves once the calls in flight
   * on it have ended, and forgets it then — its outlier record, and its metric series.
   */
  drain(modelId: string, replica: number): Promise<void> {
    const model = this.model(modelId);
    const traffic = model.replicas.get(replica);
    if (traffic === undefined) return Promise.resolve();
    return new Promise<void>((resolve) => {
      traffic.drained = () => {
        model.replicas.delete(replica);
        this.metrics.forget(modelId, String(replica));
        resolve();
      };
      if (traffic.inFlight === 0) traffic.drained();
    });
  }

  view(modelId: string): ReplicaView[] {
    return this.registry.replicas(modelId).map((entry) => {
      const traffic = this.replica(modelId, entry.replica);
      const { address, lastError: healthError, state } = entry.status;
      const { outlier, lastCallError } = traffic;
      const lastError =
        healthError && lastCallError
          ? healthError.at >= lastCallError.at
            ? healthError
            : lastCallError
          : (healthError ?? lastCallError);
      return {
        replica: entry.replica,
        address,
        state,
        inFlight: traffic.inFlight,
        ejected: outlier.ejected,
        ejectedUntil: outlier.ejectedUntil === null ? null : new Date(outlier.ejectedUntil),
        ejections: outlier.ejections,
        lastError,
      };
    });
  }

  private model(modelId: string): ModelTraffic {
    const model = this.traffic.get(modelId);
    if (!model) throw new Error(`unknown model id "${modelId}"`);
    return model;
  }

  /** The replica's traffic, begun at its first mention (a replica found by discovery is new to the router). */
  private replica(modelId: string, replica: number): ReplicaTraffic {
    const { replicas } = this.model(modelId);
    let traffic = replicas.get(replica);
    if (traffic === undefined) {
      replicas.set(replica, (traffic = { inFlight: 0, outlier: new OutlierRecord(), lastCallError: null }));
      this.metrics.declare(modelId, String(replica));
    }
    return traffic;
  }
}
