import { Inject, Injectable, Optional } from '@nestjs/common';
import { GatewayError, type ProbeResult, type StopSignal } from '#backends';
import { GatewayMetrics, ReplicaMetrics, type ReplicaCallOutcome } from '#metrics';
import { ModelRegistry, type ModelEntry } from '#model-registry';
import type { RedisReplicaCalls } from '#dispatch';
import { BackendDirectory } from '../backends/backend-directory.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway-config.js';
import { OutlierDetector, OutlierRecord } from './outlier-detector.js';
import { rendezvousRank } from './prompt-prefix.js';
import { ReplicaCallsHost } from './replica-calls.provider.js';

/** What this gateway knows of one replica beyond its health: its outstanding calls and its outlier record. */
interface ReplicaTraffic {
  inFlight: number;
  /** Calls it answered, ever: a count that moved since the last health poll stands in for that poll's probe. */
  answered: number;
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

/** A replica chosen for a call, and how to give its place back when the call ends. */
export interface ReplicaPlace {
  replica: number;
  readonly release: () => void;
}

/**
 * A call that finds every replica at its cap (over all gateways) looks again after FIRST_FULL_RETRY_MS, then twice as
 * long each time up to MAX_FULL_RETRY_MS: a place usually frees within milliseconds (the queue's cap is the sum of the
 * replicas'), and a longer wait should not cost Redis a script call every few milliseconds.
 */
const FIRST_FULL_RETRY_MS = 10;
const MAX_FULL_RETRY_MS = 100;
/** A shared count's ticket outlives its call's deadline by this much, in case the gateways' clocks differ a little. */
const TICKET_MARGIN_MS = 5_000;
const NOTHING_TO_RELEASE = () => undefined;

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
    @Optional() @Inject(ReplicaCallsHost) private readonly shared: ReplicaCallsHost | null = null,
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
    const { entries, open, candidates } = this.candidates(modelId, tried);
    if (entries.length === 1) return open[0]?.replica;
    if (candidates.length === 0) return undefined;
    const { routing, maxConcurrent } = entries[0]!.descriptor;
    if (routing === 'prefix' && prefix !== undefined) {
      const preferred = preferredFor(prefix, candidates);
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

  /**
   * The replica for the next call, and its place there. With Redis, for a model of several remote replicas, the calls
   * in flight are counted over every gateway: the choice is pick()'s among the same candidates, by those counts, and
   * a replica's max_concurrent holds over all gateways together — a call that finds every candidate at its cap looks
   * again, at growing intervals of 10 to 100 ms, until `deadline` (then 429 `overloaded` with Retry-After). Without
   * Redis, for local engines (each gateway's own) or a model of one replica, and while Redis fails, this gateway's own
   * counts: pick().
   */
  acquire(
    modelId: string,
    tried: ReadonlySet<number>,
    deadline: number,
    signal: StopSignal,
    prefix?: string,
  ): ReplicaPlace | undefined | Promise<ReplicaPlace | undefined> {
    const shared = this.shared?.calls;
    if (!shared) return this.pickHere(modelId, tried, prefix); // the hot path: no promise
    const { entries, candidates } = this.candidates(modelId, tried);
    if (entries.length === 1 || candidates.length === 0 || entries[0]!.descriptor.backend.type === 'local')
      return this.pickHere(modelId, tried, prefix);
    return this.acquireShared(shared, entries, candidates, modelId, tried, deadline, signal, prefix);
  }

  /** pick()'s replica, by this gateway's own counts; nothing to release. */
  private pickHere(modelId: string, tried: ReadonlySet<number>, prefix?: string): ReplicaPlace | undefined {
    const replica = this.pick(modelId, tried, prefix);
    return replica === undefined ? undefined : { replica, release: NOTHING_TO_RELEASE };
  }

  private async acquireShared(
    shared: RedisReplicaCalls,
    entries: readonly ModelEntry[],
    candidates: readonly ModelEntry[],
    modelId: string,
    tried: ReadonlySet<number>,
    deadline: number,
    signal: StopSignal,
    prefix?: string,
  ): Promise<ReplicaPlace | undefined> {
    const local = () => this.pickHere(modelId, tried, prefix);
    const { routing, maxConcurrent } = entries[0]!.descriptor;
    const model = this.model(modelId);
    // Round-robin among the equally busy: the candidates from the cursor on, then the ones before it.
    const order = [...candidates].sort(
      (a, b) => Number(a.replica < model.cursor) - Number(b.replica < model.cursor) || a.replica - b.replica,
    );
    const preferFirst = routing === 'prefix' && prefix !== undefined;
    if (preferFirst) {
      const preferred = preferredFor(prefix, order);
      order.splice(order.indexOf(preferred), 1);
      order.unshift(preferred);
    }
    // A remote replica has its address from the start (its URL): the name every gateway knows it by.
    const addresses = order.map((entry) => entry.status.address ?? `replica-${entry.replica}`);
    for (let retryMs = FIRST_FULL_RETRY_MS; ; retryMs = Math.min(retryMs * 2, MAX_FULL_RETRY_MS)) {
      // A client that left while its call waited for a place gets its own end (cancelled), not an overload refusal.
      if (signal.aborted) throw signal.reason;
      let ticket;
      try {
        ticket = await shared.take(modelId, addresses, maxConcurrent, deadline + TICKET_MARGIN_MS, preferFirst);
      } catch {
        return local(); // Redis away: this gateway's own counts are better than refusing the call
      }
      if (ticket !== null) {
        const replica = order[ticket.index]!.replica;
        model.cursor = replica + 1;
        return { replica, release: ticket.release };
      }
      if (signal.aborted) throw signal.reason;
      if (Date.now() >= deadline)
        throw new GatewayError('overloaded', `every replica of model "${modelId}" is at its max_concurrent`, {
          retryAfterS: 1,
        });
      await pause(Math.min(retryMs, Math.max(0, deadline - Date.now())), signal);
    }
  }

  /**
   * The replicas a call may go to, none of `tried`: the ready ones not ejected; with none of those, the ready ones
   * (Envoy's panic routing: better a suspect replica than a certain refusal).
   */
  private candidates(modelId: string, tried: ReadonlySet<number>) {
    const entries = this.registry.replicas(modelId);
    const open = entries.filter(
      (entry) => !tried.has(entry.replica) && this.directory.get(modelId, entry.replica) !== undefined,
    );
    const ready = open.filter((entry) => entry.state === 'ready');
    const healthy = ready.filter((entry) => !this.replica(modelId, entry.replica).outlier.ejected);
    return { entries, open, candidates: healthy.length > 0 ? healthy : ready };
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
    if (traffic.drained !== undefined) {
      // A replica that has gone: its outlier record no longer matters, and its last call lets it go.
      if (traffic.inFlight === 0) traffic.drained();
      return;
    }
    if (outcome === 'ok') {
      traffic.answered += 1;
      this.detector.success(traffic.outlier);
    }
    if (outcome !== 'failed') return;
    traffic.lastCallError = { message: error?.message ?? 'call failed', at: new Date() };
    const peers = [...model.replicas.values()].map((peer) => peer.outlier);
    if (this.detector.failure(traffic.outlier, peers)) this.metrics.setEjected(modelId, label, true);
  }

  failedOver(modelId: string, replica: number): void {
    this.metrics.failedOver(modelId, String(replica));
  }

  /** The calls the replica has answered so far (its calls that ended `ok`). */
  answeredCalls(modelId: string, replica: number): number {
    return this.replica(modelId, replica).answered;
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
      replicas.set(
        replica,
        (traffic = { inFlight: 0, answered: 0, outlier: new OutlierRecord(), lastCallError: null }),
      );
      this.metrics.declare(modelId, String(replica));
    }
    return traffic;
  }
}

/**
 * The replica a prompt prefix prefers (rendezvous hashing). A listed replica is known by its number, the same in every
 * gateway; a replica found in DNS by its address, as its number is the order one gateway found it in.
 */
function preferredFor(prefix: string, candidates: readonly ModelEntry[]): ModelEntry {
  const name = (entry: ModelEntry) =>
    entry.descriptor.discovery ? (entry.status.address ?? entry.replica) : entry.replica;
  return candidates.reduce((best, entry) =>
    rendezvousRank(prefix, name(entry)) > rendezvousRank(prefix, name(best)) ? entry : best,
  );
}

/** Waits `ms`, or less if the signal aborts first. */
function pause(ms: number, signal: StopSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
