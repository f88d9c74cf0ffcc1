import { Inject, Injectable } from '@nestjs/common';
import type { DispatchQueue } from '#dispatch';
import { ModelRegistry, type ModelEntry } from '#model-registry';
import { checkModelScope, mayUseModel, type Caller } from '../auth/caller.js';
import { DISPATCH_QUEUE } from '../dispatch.providers.js';
import { EngineSupervisor } from '../engines/engine-supervisor.service.js';
import { ReplicaRouter } from '../replicas/replica-router.service.js';
import { readGpuMemory, type GpuMemoryReading } from './gpu-memory.js';
import type {
  ModelListDto,
  ModelSummaryDto,
  ModelSummaryListDto,
  ModelViewDto,
  ReplicaViewDto,
} from './model-view.dto.js';

function summaryOf({ descriptor, status }: ModelEntry): ModelSummaryDto {
  return {
    id: descriptor.id,
    aliases: descriptor.aliases,
    state: status.state,
    vram_budget_gb: descriptor.vramBudgetGb,
  };
}

/**
 * What GET /models tells about each model: to an admin, where it runs, what it may use and how it is doing; to any
 * other caller, the summary (backend addresses, pids, memory and error texts are the operator's business). Either way
 * only the models in the caller's scope.
 */
@Injectable()
export class ModelsService {
  constructor(
    @Inject(ModelRegistry) private readonly registry: ModelRegistry,
    @Inject(DISPATCH_QUEUE) private readonly queue: DispatchQueue,
    @Inject(EngineSupervisor) private readonly engines: EngineSupervisor,
    @Inject(ReplicaRouter) private readonly router: ReplicaRouter,
  ) {}

  async list(caller: Caller): Promise<ModelListDto | ModelSummaryListDto> {
    if (!caller.admin) return { models: this.inScope(caller).map(summaryOf) };
    const gpu = await readGpuMemory();
    return {
      models: await Promise.all(this.inScope(caller).map((entry) => this.view(entry, gpu))),
      gpus: this.registry.config.gpus.map((declared) => {
        const measured = gpu?.gpus.find((g) => g.index === declared.id);
        return {
          id: declared.id,
          memory_gb: declared.memoryGb,
          vram_budget_gb: this.registry.list().filter((e) => e.descriptor.gpu === declared.id).reduce((sum, e) => sum + e.descriptor.vramBudgetGb, 0),
          measured: measured ? { name: measured.name, used_mb: measured.usedMb, total_mb: measured.totalMb } : null,
        };
      }),
    };
  }

  /** One model's view; undefined for an unknown one, 403 for one outside the caller's scope. */
  async one(idOrAlias: string, caller: Caller): Promise<ModelViewDto | ModelSummaryDto | undefined> {
    const entry = this.registry.resolve(idOrAlias);
    if (!entry) return undefined;
    checkModelScope(caller, entry.descriptor.id, 'id');
    return caller.admin ? this.view(entry, await readGpuMemory()) : summaryOf(entry);
  }

  private inScope(caller: Caller): ModelEntry[] {
    return this.registry.list().filter(({ descriptor }) => mayUseModel(caller, descriptor.id));
  }

  private async view(entry: ModelEntry, gpu: GpuMemoryReading | null): Promise<ModelViewDto> {
    const { descriptor, status } = entry;
    const engine = this.engines.engine(descriptor.id);
    // With Redis away the counts are unknown, not zero.
    const stats = await this.queue.stats(descriptor.id).catch(() => null);
    const pid = engine?.pid;
    return {
      id: descriptor.id,
      aliases: descriptor.aliases,
      backend: { type: descriptor.backend.type, address: status.address, pid: pid ?? null },
      quantization: descriptor.quantization,
      vram_budget_gb: descriptor.vramBudgetGb,
      gpu: descriptor.gpu,
      memory: {
        process_rss_bytes: engine ? await engine.rssBytes() : null,
        gpu_used_mb: pid !== undefined ? (gpu?.byPid.get(pid) ?? null) : null,
      },
      state: status.state,
      state_since: status.since.toISOString(),
      cold_start_ms: status.coldStartMs,
      ready_since: status.readySince?.toISOString() ?? null,
      // A model of several replicas restarts when any of its engines does.
      restarts: this.registry.replicas(descriptor.id).reduce((sum, replica) => sum + replica.status.restarts, 0),
      in_flight: stats?.inFlight ?? null,
      queued: stats?.queued ?? null,
      admitted: stats?.admitted ?? null,
      service_rate_per_s: stats?.serviceRatePerS == null ? null : Math.round(stats.serviceRatePerS * 100) / 100,
      predicted_wait_ms: stats ? Math.round(stats.predictedWaitMs) : null,
      limits: {
        max_concurrent: descriptor.maxConcurrent,
        max_queued: descriptor.maxQueued,
        max_queue_wait_ms: descriptor.maxQueueWaitMs,
        max_new_tokens: descriptor.maxNewTokens,
      },
      last_error: status.lastError ? { message: status.lastError.message, at: status.lastError.at.toISOString() } : null,
      replicas: this.replicaViews(descriptor.id),
    };
  }

  private replicaViews(modelId: string): ReplicaViewDto[] {
    const entries = this.registry.replicas(modelId);
    return this.router.view(modelId).map((view) => {
      const entry = entries.find((replica) => replica.replica === view.replica)!;
      return {
        replica: view.replica,
        backend: {
          type: entry.descriptor.backend.type,
          address: view.address,
          pid: this.engines.engine(modelId, view.replica)?.pid ?? null,
        },
        state: view.state,
        in_flight: view.inFlight,
        ejected: view.ejected,
        ejected_until: view.ejectedUntil?.toISOString() ?? null,
        ejections: view.ejections,
        restarts: entry.status.restarts,
        last_error: view.lastError ? { message: view.lastError.message, at: view.lastError.at.toISOString() } : null,
      };
    });
  }
}
