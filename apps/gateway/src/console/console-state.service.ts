import { Inject, Injectable } from '@nestjs/common';
import { GatewayError } from '#backends';
import { GatewayMetrics, LAST_MINUTE_S, type LastMinuteFigures, type LatencyPercentiles } from '#metrics';
import { ModelRegistry } from '#model-registry';
import type { Caller } from '../auth/caller.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway-config.js';
import type { ModelListDto } from '../models/model-view.dto.js';
import { ModelsService } from '../models/models.service.js';
import type { ConsoleStateDto, LastMinuteDto, PercentilesDto } from './console-state.dto.js';
import { StateChanges } from './state-changes.js';

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

function percentilesDto({ count, p50, p99 }: LatencyPercentiles): PercentilesDto {
  return { count, p50: p50 === null ? null : round(p50, 2), p99: p99 === null ? null : round(p99, 2) };
}

function lastMinuteDto(figures: LastMinuteFigures): LastMinuteDto {
  return {
    requests: figures.requests,
    requests_per_s: round(figures.requestsPerS, 3),
    per_second: figures.perSecond,
    errors: figures.errors,
    latency_ms: percentilesDto(figures.latencyMs),
    time_to_first_token_ms: percentilesDto(figures.timeToFirstTokenMs),
  };
}

/**
 * The console's one JSON answer, which scripts may read too: GET /models's admin view of every model and GPU, plus
 * what the last minute looked like from this gateway (rates, errors, latency percentiles) and each model's recent state
 * changes. Admin only: it shows backend addresses, pids and error texts.
 */
@Injectable()
export class ConsoleStateService {
  private readonly startedAt = Date.now();
  private readonly stateChanges: StateChanges;

  constructor(
    @Inject(ModelsService) private readonly models: ModelsService,
    @Inject(GatewayMetrics) private readonly metrics: GatewayMetrics,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(ModelRegistry) registry: ModelRegistry,
  ) {
    this.stateChanges = new StateChanges(registry);
  }

  async state(caller: Caller): Promise<ConsoleStateDto> {
    if (!caller.admin)
      throw new GatewayError(
        'forbidden',
        `the console's data needs a key with the admin scope; "${caller.id}" has not`,
      );
    // An admin's list is the full view (ModelsService gives the summary to other callers only).
    const { models, gpus } = (await this.models.list(caller)) as ModelListDto;
    const { metrics } = this;
    return {
      generated_at: new Date().toISOString(),
      window_s: LAST_MINUTE_S,
      gateway: {
        uptime_s: Math.round((Date.now() - this.startedAt) / 1000),
        dispatch_queue: this.config.redisUrl ? 'redis' : 'in-process',
        last_minute: lastMinuteDto(metrics.lastMinuteTotal()),
      },
      models: models.map((model) => ({
        ...model,
        last_minute: lastMinuteDto(metrics.lastMinuteOf(model.id)),
        state_changes: this.stateChanges.of(model.id),
      })),
      gpus: gpus.map((gpu) => ({
        ...gpu,
        models: models
          .filter((model) => model.gpu === gpu.id)
          .map(({ id, vram_budget_gb, memory }) => ({ id, vram_budget_gb, gpu_used_mb: memory.gpu_used_mb })),
      })),
    };
  }
}
