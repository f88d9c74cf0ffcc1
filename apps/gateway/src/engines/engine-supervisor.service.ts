import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { ModelRegistry } from '#model-registry';
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
        onReady: () => {
          if (entry.status.state === 'loading') entry.markReady();
        },
      });
      this.engines.set(id, engine);
      engine.start();
    }
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
