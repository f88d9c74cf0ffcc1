import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { ModelRegistry, type ModelEntry } from '#model-registry';
import { BackendDirectory } from '../backends/backend-directory.js';
import { EngineProcess } from './engine-process.js';

/**
 * Runs a local engine process for every `local` model and points the backend directory at each once it listens.
 * TGI models need no process: their address is in the config from the start.
 */
@Injectable()
export class EngineSupervisor implements OnApplicationShutdown {
  private readonly engines = new Map<string, EngineProcess>();

  constructor(
    @Inject(ModelRegistry) private readonly registry: ModelRegistry,
    @Inject(BackendDirectory) private readonly directory: BackendDirectory,
  ) {}

  /** Starts every backend; returns at once (readiness is tracked by the models' states). */
  startAll(): void {
    for (const entry of this.registry.list()) {
      const { backend, id } = entry.descriptor;
      if (backend.type === 'tgi') {
        entry.markStarting();
        entry.setAddress(backend.url);
        this.directory.set(id, backend.url);
        entry.markLoading(); // TGI binds its port only after loading: until it answers, it is loading
        continue;
      }
      const engine = new EngineProcess(entry, backend, {
        onListening: (url) => {
          entry.setAddress(url);
          this.directory.set(id, url);
          entry.markLoading();
        },
        onReady: () => void this.confirmReady(entry),
      });
      this.engines.set(id, engine);
      engine.start();
    }
  }

  /**
   * The engine says it has loaded: its /health confirms it now, as the readiness monitor's next poll would, so that
   * the model serves (and its cold start is measured) without waiting for that poll.
   */
  private async confirmReady(entry: ModelEntry): Promise<void> {
    const probe = await this.directory.get(entry.id)?.probe();
    if (probe === 'ready' && entry.state === 'loading') entry.markReady();
  }

  engine(modelId: string): EngineProcess | undefined {
    return this.engines.get(modelId);
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
