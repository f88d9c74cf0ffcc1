import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { GatewayError, type ProbeResult } from '#backends';
import { ModelRegistry, type ModelEntry } from '#model-registry';
import { BackendDirectory } from '../backends/backend-directory.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway-config.js';
import { EngineProcess } from './engine-process.js';
import { EngineWatchdog } from './engine-watchdog.js';

/**
 * Runs a local engine process for every `local` replica (a model of `replicas: N` has N, each supervised on its own)
 * and points the backend directory at each once it listens. Remote backends (TGI, OpenAI-protocol servers) need no
 * process: their address is in the config from the start. An engine that stops answering its health checks while its process lives on is
 * replaced (EngineWatchdog), and the calls in flight on it fail at once.
 */
@Injectable()
export class EngineSupervisor implements OnApplicationShutdown {
  private readonly engines = new Map<string, EngineProcess>();
  private readonly watchdog: EngineWatchdog;

  constructor(
    @Inject(ModelRegistry) private readonly registry: ModelRegistry,
    @Inject(BackendDirectory) private readonly directory: BackendDirectory,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.watchdog = new EngineWatchdog(config.engineWatchdogFailures, (entry, misses) =>
      this.replaceHung(entry, misses),
    );
  }

  /** Starts every backend; returns at once (readiness is tracked by the models' states). */
  startAll(): void {
    for (const model of this.registry.list())
      for (const replica of this.registry.replicas(model.id)) this.startReplica(replica);
  }

  private startReplica(entry: ModelEntry): void {
    const { backend, id } = entry.descriptor;
    if (backend.type !== 'local') {
      entry.markStarting();
      entry.setAddress(backend.url);
      this.directory.set(id, backend.url, backend, entry.replica);
      entry.markLoading(); // until its health route says ready (TGI and vLLM bind their port only after loading)
      return;
    }
    const settings = { killGraceMs: this.config.engineKillGraceMs, fileRetryMs: this.config.modelFileRetryMs };
    const engine = new EngineProcess(entry, backend, settings, {
      onListening: (url) => {
        entry.setAddress(url);
        this.directory.set(id, url, backend, entry.replica);
        entry.markLoading();
      },
      onReady: () => void this.confirmReady(entry),
    });
    this.engines.set(engineKey(id, entry.replica), engine);
    engine.start();
  }

  /**
   * The engine says it has loaded: its /health confirms it now, as the readiness monitor's next poll would, so that
   * the model serves (and its cold start is measured) without waiting for that poll.
   */
  private async confirmReady(entry: ModelEntry): Promise<void> {
    const probe = await this.directory.get(entry.id, entry.replica)?.probe();
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

  /** The engine of one replica (the first by default), if the model is local. */
  engine(modelId: string, replica = 0): EngineProcess | undefined {
    return this.engines.get(engineKey(modelId, replica));
  }

  /** Called as soon as shutdown starts, so an engine that exits meanwhile is not restarted. */
  beginShutdown(): void {
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
