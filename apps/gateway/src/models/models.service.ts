import { Inject, Injectable } from '@nestjs/common';
import { GatewayError } from '#backends';
import type { DispatchQueue } from '#dispatch';
import { ModelRegistry, type ModelEntry } from '#model-registry';
import { checkModelScope, mayUseModel, type Caller } from '../auth/caller.js';
import { modelUnavailableError } from '../serving/model-unavailable.js';
import { DISPATCH_QUEUE } from '../dispatch.providers.js';
import { EngineSupervisor } from '../engines/engine-supervisor.service.js';
import { ReplicaRouter } from '../replicas/replica-router.service.js';
import { ResidencyService } from '../residency/residency.service.js';
import { isOverBudget, readGpuMemory, type GpuMemoryReading } from './gpu-memory.js';
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
    @Inject(ResidencyService) private readonly residency: ResidencyService,
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
          vram_budget_gb: this.registry
            .list()
            .filter((e) => e.descriptor.gpu === declared.id)
            .reduce((sum, e) => sum + e.descriptor.vramBudgetGb, 0),
          budget_in_use_gb: this.residency.budgetInUseGb(declared.id),
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

  /** Loads the model (POST /models/{id}/load) and answers its view once it serves; 503 if it cannot. */
  async load(idOrAlias: string, caller: Caller): Promise<ModelViewDto> {
    const entry = this.adminTarget(idOrAlias, caller);
    const deadline = Date.now() + entry.descriptor.timeouts.startupMs;
    const release = await this.residency.load(entry, new AbortController().signal, deadline);
    try {
      await untilServing(entry, deadline);
    } finally {
      release();
    }
    return this.view(entry, await readGpuMemory());
  }

  /** Unloads the model (POST /models/{id}/unload) once its requests in flight and queued have ended. */
  async unload(idOrAlias: string, caller: Caller): Promise<ModelViewDto> {
    const entry = this.adminTarget(idOrAlias, caller);
    await this.residency.unload(entry);
    return this.view(entry, await readGpuMemory());
  }

  private adminTarget(idOrAlias: string, caller: Caller): ModelEntry {
    if (!caller.admin)
      throw new GatewayError('forbidden', `loading and unloading models needs a key with the admin scope; "${caller.id}" has not`);
    const entry = this.registry.resolve(idOrAlias);
    if (!entry) throw new GatewayError('model_not_found', `unknown model "${idOrAlias}" (see GET /models)`);
    return entry;
  }

  private async view(entry: ModelEntry, gpu: GpuMemoryReading | null): Promise<ModelViewDto> {
    const { descriptor, status } = entry;
    const engine = this.engines.engine(descriptor.id);
    // With Redis away the counts are unknown, not zero.
    const stats = await this.queue.stats(descriptor.id).catch(() => null);
    const pid = engine?.pid;
    const gpuUsedMb = pid !== undefined ? (gpu?.byPid.get(pid) ?? null) : null;
    const residency = this.residency.view(descriptor.id);
    return {
      id: descriptor.id,
      aliases: descriptor.aliases,
      backend: { type: descriptor.backend.type, address: status.address, pid: pid ?? null },
      quantization: descriptor.quantization,
      vram_budget_gb: descriptor.vramBudgetGb,
      gpu: descriptor.gpu,
      memory: {
        process_rss_bytes: engine ? await engine.rssBytes() : null,
        gpu_used_mb: gpuUsedMb,
        over_budget: gpuUsedMb === null ? null : isOverBudget(gpuUsedMb, descriptor.vramBudgetGb),
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
      residency: {
        load: residency?.load ?? 'always',
        resident: residency?.resident ?? true,
        last_used: residency?.lastUsed?.toISOString() ?? null,
        keep_alive_ms: residency?.keepAliveMs ?? null,
        min_residency_ms: residency?.minResidencyMs ?? null,
        loads: residency?.loads ?? 0,
        unloads: residency?.unloads ?? 0,
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

/** Until the model serves (resolves), cannot (503 with its reason) or `deadline` passes (503). */
function untilServing(entry: ModelEntry, deadline: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const check = (): boolean => {
      const { state } = entry.status;
      if (state === 'ready') finish();
      else if (state === 'failed' || state === 'unhealthy') finish(modelUnavailableError(entry));
      else return false;
      return true;
    };
    const finish = (error?: GatewayError) => {
      unsubscribe();
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    };
    const unsubscribe = entry.onChange(() => void check());
    const timer = setTimeout(
      () =>
        finish(
          new GatewayError('unavailable', `model "${entry.id}" is still ${entry.state} (startup_ms passed)`, {
            retryAfterS: 5,
          }),
        ),
      Math.max(0, deadline - Date.now()),
    );
    check();
  });
}
