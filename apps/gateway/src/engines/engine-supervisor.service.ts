import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { GatewayError, type ProbeResult } from '#backends';
import { isSupervised, ModelRegistry, residencyOf, type ModelEntry } from '#model-registry';
import { BackendDirectory } from '../backends/backend-directory.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway-config.js';
import { EngineWatchdog } from './engine-watchdog.js';
import { commandLaunchPlan, engineLaunchPlan } from './server-launch.js';
import { ServerProcess } from './server-process.js';

/**
 * Runs a server process for every replica the gateway starts itself — the engine of a `local` replica, the command of
 * a `process` one (a model of `replicas: N` has N, each supervised on its own) — and points the backend directory at
 * each once it listens. Models loaded always start with the gateway; models on demand when ResidencyService loads
 * them, and stop when it unloads them. Remote backends (TGI, OpenAI-protocol servers) need no process: their address
 * is in the config from the start. A server that stops answering its health checks while its process lives on is
 * replaced (EngineWatchdog), and the calls in flight on it fail at once.
 */
@Injectable()
export class EngineSupervisor implements OnApplicationShutdown {
  private readonly engines = new Map<string, ServerProcess>();
  private readonly watchdog: EngineWatchdog;
  private shuttingDown = false;

  constructor(
    @Inject(ModelRegistry) private readonly registry: ModelRegistry,
    @Inject(BackendDirectory) private readonly directory: BackendDirectory,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.watchdog = new EngineWatchdog(config.engineWatchdogFailures, (entry, misses) =>
      this.replaceHung(entry, misses),
    );
  }

  /**
   * Starts every backend of the models loaded always, and marks the models on demand stopped (not loaded); returns at
   * once (readiness is tracked by the models' states).
   */
  startAll(): void {
    for (const model of this.registry.list()) {
      const onDemand = residencyOf(model.descriptor).load === 'on_demand';
      for (const replica of this.registry.replicas(model.id)) {
        if (onDemand) replica.markStopped();
        else this.startReplica(replica);
      }
    }
  }

  /** Starts the model's servers (each replica's), unless they run already; false once shutdown has begun. */
  load(modelId: string): boolean {
    if (this.shuttingDown) return false;
    for (const replica of this.registry.replicas(modelId)) {
      const server = this.engines.get(engineKey(modelId, replica.replica));
      if (!server?.running && replica.state !== 'starting' && replica.state !== 'loading') this.startReplica(replica);
    }
    return true;
  }

  /** Stops the model's servers and waits for them to exit; a model whose start failed keeps its reason. */
  async unload(modelId: string): Promise<void> {
    const servers = this.registry.replicas(modelId).flatMap((replica) => {
      const server = this.engines.get(engineKey(modelId, replica.replica));
      return server ? [server] : [];
    });
    await Promise.all(servers.map((server) => server.stop()));
  }

  /** Whether the gateway runs the model's servers itself (local engines, process commands). */
  supervises(modelId: string): boolean {
    return this.registry.replicas(modelId).every((replica) => isSupervised(replica.descriptor.backend));
  }

  private startReplica(entry: ModelEntry): void {
    const { backend, id } = entry.descriptor;
    const key = engineKey(id, entry.replica);
    const existing = this.engines.get(key);
    if (existing) return existing.start();
    if (!isSupervised(backend)) {
      entry.markStarting();
      entry.setAddress(backend.url);
      this.directory.set(id, backend.url, backend, entry.replica);
      entry.markLoading(); // until its health route says ready (TGI and vLLM bind their port only after loading)
      return;
    }
    const settings = { killGraceMs: this.config.engineKillGraceMs, fileRetryMs: this.config.modelFileRetryMs };
    const plan =
      backend.type === 'local'
        ? engineLaunchPlan(entry.descriptor, backend)
        : commandLaunchPlan(entry.descriptor, backend);
    const server = new ServerProcess(entry, plan, settings, {
      onListening: (url) => {
        entry.setAddress(url);
        this.directory.set(id, url, backend, entry.replica);
        entry.markLoading();
      },
      onReady: (confirmed) => void this.confirmReady(entry, confirmed),
    });
    this.engines.set(key, server);
    server.start();
  }

  /**
   * The server serves: a health route that answered 200 is enough; the engine's word is confirmed by its /health now,
   * as the readiness monitor's next poll would, so that the model serves (and its cold start is measured) without
   * waiting for that poll.
   */
  private async confirmReady(entry: ModelEntry, confirmed: boolean): Promise<void> {
    const probe = confirmed ? 'ready' : await this.directory.get(entry.id, entry.replica)?.probe();
    if (probe === 'ready' && entry.state === 'loading') entry.markReady();
  }

  /** Each health probe's outcome (from the readiness monitor): the watchdog's evidence. */
  recordProbe(entry: ModelEntry, probe: ProbeResult): void {
    if (this.engines.has(engineKey(entry.id, entry.replica))) this.watchdog.record(entry, probe);
  }

  private replaceHung(entry: ModelEntry, misses: number): void {
    const { id: modelId, replica } = entry;
    const engine = this.engines.get(engineKey(modelId, replica));
    if (!engine?.running) return;
    const { healthTimeoutMs } = this.config;
    this.directory.failCallsInFlight(
      modelId,
      new GatewayError(
        'unavailable',
        `model "${modelId}": its engine stopped answering and is being replaced; retry shortly`,
        { retryAfterS: 5 },
      ),
      replica,
    );
    engine.replace(`pid ${engine.pid} failed ${misses} health checks in a row (HEALTH_TIMEOUT_MS ${healthTimeoutMs})`);
  }

  /** The server process of one replica (the first by default), if the gateway runs the model itself. */
  engine(modelId: string, replica = 0): ServerProcess | undefined {
    return this.engines.get(engineKey(modelId, replica));
  }

  /** Called as soon as shutdown starts, so an engine that exits meanwhile is not restarted. */
  beginShutdown(): void {
    this.shuttingDown = true;
    for (const engine of this.engines.values()) engine.beginShutdown();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.engines.values()].map((engine) => engine.stop()));
    this.directory.closeAll();
  }
}

function engineKey(modelId: string, replica: number): string {
  return `${modelId}\u0000${replica}`;
}
