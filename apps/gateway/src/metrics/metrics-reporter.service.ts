import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { DispatchQueue } from '#dispatch';
import { GatewayMetrics, type ModelGauges } from '#metrics';
import { ModelRegistry } from '#model-registry';
import { DISPATCH_QUEUE } from '../dispatch.providers.js';
import { EngineSupervisor } from '../engines/engine-supervisor.service.js';
import { isOverBudget, readGpuMemory } from '../models/gpu-memory.js';
import { ResidencyService } from '../residency/residency.service.js';

/** How often the gauges (in flight, queued, ready, cold start) are read and sent. */
const GAUGE_SAMPLE_MS = 1000;

/**
 * Samples the gauges once a second instead of per request: queue depth is a count in Redis for the shared queue,
 * too costly to read on every request, and a gauge only needs to be fresh when it is flushed or scraped.
 */
@Injectable()
export class MetricsReporter implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;

  constructor(
    @Inject(GatewayMetrics) private readonly metrics: GatewayMetrics,
    @Inject(ModelRegistry) private readonly registry: ModelRegistry,
    @Inject(DISPATCH_QUEUE) private readonly queue: DispatchQueue,
    @Inject(ResidencyService) private readonly residency: ResidencyService,
    @Inject(EngineSupervisor) private readonly engines: EngineSupervisor,
  ) {}

  onApplicationBootstrap(): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), GAUGE_SAMPLE_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.metrics.close();
  }

  private async sample(): Promise<void> {
    if (this.sampling) return; // a slow Redis must not pile samples up
    this.sampling = true;
    try {
      const gauges = new Map<string, ModelGauges>();
      // nvidia-smi, where it runs (cached for a few seconds; null without it: no over_budget gauge then).
      const gpu = await readGpuMemory();
      for (const { descriptor, status } of this.registry.list()) {
        const stats = await this.queue
          .stats(descriptor.id)
          .catch(() => ({ inFlight: 0, queued: 0, admitted: 0, serviceRatePerS: null, predictedWaitMs: 0 }));
        const { state, coldStartMs } = status;
        // A model of several replicas restarts when any of its engines does.
        const restarts = this.registry
          .replicas(descriptor.id)
          .reduce((sum, replica) => sum + replica.status.restarts, 0);
        const pid = this.engines.engine(descriptor.id)?.pid;
        const gpuUsedMb = pid === undefined ? undefined : gpu?.byPid.get(pid);
        gauges.set(descriptor.id, {
          ...stats,
          ready: state === 'ready',
          state,
          restarts,
          coldStartMs,
          resident: this.residency.view(descriptor.id)?.resident ?? true,
          overBudget: gpuUsedMb === undefined ? null : isOverBudget(gpuUsedMb, descriptor.vramBudgetGb),
        });
      }
      this.metrics.sampleGauges(gauges);
    } finally {
      this.sampling = false;
    }
  }
}
