import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { discoveredUrl, ModelRegistry, type DnsDiscovery, type ModelEntry } from '#model-registry';
import { BackendDirectory } from '../backends/backend-directory.js';
import { HOST_RESOLVER, type HostResolver } from './host-resolver.js';
import { ReplicaRouter } from './replica-router.service.js';

/**
 * The replicas of models written with `replicas: {discover: dns, ...}`: their name is resolved at start and every
 * `resolve_every_ms`, and each address is a replica. An address that appears is added as a replica that is loading
 * until its health route says ready (so it serves only once probed); one that disappears is taken out of routing at
 * once and its client closed once its calls in flight have ended. A failure to resolve keeps the replicas known.
 */
@Injectable()
export class ReplicaDiscovery implements OnApplicationShutdown {
  private readonly logger = new Logger('ReplicaDiscovery');
  private readonly timers: NodeJS.Timeout[] = [];
  /** Per discovered model: its replicas by address. */
  private readonly found = new Map<string, Map<string, number>>();
  private readonly resolving = new Set<string>();
  private closed = false;

  constructor(
    @Inject(ModelRegistry) private readonly registry: ModelRegistry,
    @Inject(BackendDirectory) private readonly directory: BackendDirectory,
    @Inject(ReplicaRouter) private readonly router: ReplicaRouter,
    @Inject(HOST_RESOLVER) private readonly resolveHost: HostResolver,
  ) {}

  /** Resolves every discovered model's name now, then on its interval; returns at once. */
  start(): void {
    for (const { id, descriptor } of this.registry.list()) {
      if (!descriptor.discovery) continue;
      this.found.set(id, new Map());
      const timer = setInterval(() => void this.resolve(id), descriptor.discovery.everyMs);
      timer.unref();
      this.timers.push(timer);
      void this.resolve(id);
    }
  }

  /** Resolves the model's name once: adds the addresses new to it, drains the ones gone. */
  async resolve(modelId: string): Promise<void> {
    if (this.resolving.has(modelId)) return; // a slow resolver must not pile up lookups
    this.resolving.add(modelId);
    try {
      const model = this.registry.get(modelId);
      const discovery = model.descriptor.discovery!;
      let addresses: string[];
      try {
        addresses = await this.resolveHost(discovery.host);
      } catch (error) {
        const why = `cannot resolve ${discovery.host}: ${error instanceof Error ? error.message : String(error)}`;
        this.logger.warn(`${modelId}: ${why} (keeping its ${this.found.get(modelId)!.size} replicas)`);
        model.recordError(why);
        return;
      }
      if (!this.closed) this.update(model, discovery, new Set(addresses));
    } finally {
      this.resolving.delete(modelId);
    }
  }

  private update(model: ModelEntry, discovery: DnsDiscovery, addresses: ReadonlySet<string>): void {
    const known = this.found.get(model.id)!;
    for (const [address, replica] of known) {
      if (addresses.has(address)) continue;
      known.delete(address);
      this.retire(model.id, replica, `${address} is no longer an address of ${discovery.host}`);
    }
    for (const address of addresses) {
      if (!known.has(address)) known.set(address, this.admit(model.id, discoveredUrl(address, discovery.port)));
    }
    if (known.size === 0 && model.state !== 'unhealthy')
      model.markUnhealthy(`${discovery.host} has no address (no replica found)`);
  }

  /** A new address: a replica, loading until its first health probe (here, or the readiness monitor's) says ready. */
  private admit(modelId: string, url: string): number {
    const entry = this.registry.addReplica(modelId, url);
    this.directory.set(modelId, url, entry.descriptor.backend, entry.replica);
    entry.markLoading();
    void this.probe(entry);
    this.logger.log(`${modelId}: replica ${entry.replica} found at ${url}`);
    return entry.replica;
  }

  private async probe(entry: ModelEntry): Promise<void> {
    const probe = await this.directory.get(entry.id, entry.replica)?.probe();
    if (probe === 'ready' && entry.status.state === 'loading') entry.markReady();
  }

  /** Out of routing now; its client closed once the calls in flight on it have ended. */
  private retire(modelId: string, replica: number, why: string): void {
    this.registry.removeReplica(modelId, replica, why);
    this.logger.log(`${modelId}: replica ${replica} draining (${why})`);
    void this.router.drain(modelId, replica).then(() => this.directory.remove(modelId, replica));
  }

  onApplicationShutdown(): void {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
  }
}
