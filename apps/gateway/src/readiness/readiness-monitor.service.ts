import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { ModelRegistry, type ModelEntry } from '#model-registry';
import { BackendDirectory } from '../backends/backend-directory.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway-config.js';

/**
 * Polls every backend's /health and moves its model between loading, ready and unhealthy. A backend that refuses
 * connections is still loading until its start-up deadline passes (TGI binds only after loading), then unhealthy.
 */
@Injectable()
export class ReadinessMonitor implements OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private polling = false;

  constructor(
    @Inject(ModelRegistry) private readonly registry: ModelRegistry,
    @Inject(BackendDirectory) private readonly directory: BackendDirectory,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.pollAll(), this.config.healthPollMs);
    this.timer.unref();
    void this.pollAll();
  }

  async pollAll(): Promise<void> {
    if (this.polling) return; // a slow backend must not pile up probes
    this.polling = true;
    try {
      await Promise.all(this.registry.list().map((entry) => this.poll(entry)));
    } finally {
      this.polling = false;
    }
  }

  private async poll(entry: ModelEntry): Promise<void> {
    const backend = this.directory.get(entry.descriptor.id);
    const { state, since } = entry.status;
    if (!backend || state === 'stopped' || state === 'starting') return;
    const probe = await backend.probe();
    if (probe === 'ready') {
      if (state === 'loading' || state === 'unhealthy') entry.markReady();
      return;
    }
    if (state === 'ready') {
      entry.markUnhealthy(probe === 'loading' ? 'backend reports it is loading' : 'backend health check failed');
      return;
    }
    const waitedMs = Date.now() - since.getTime();
    if (state === 'loading' && waitedMs > entry.descriptor.timeouts.startupMs) {
      entry.markUnhealthy(
        `backend not ready ${Math.round(waitedMs / 1000)} s after start (startup_ms ${entry.descriptor.timeouts.startupMs})`,
      );
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}
