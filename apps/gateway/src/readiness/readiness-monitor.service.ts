import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { ProbeResult } from '#backends';
import { ModelRegistry, type ModelEntry } from '#model-registry';
import { BackendDirectory } from '../backends/backend-directory.js';
import { EngineSupervisor } from '../engines/engine-supervisor.service.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway-config.js';
import { ReplicaRouter } from '../replicas/replica-router.service.js';

/**
 * Polls every backend's /health — each replica's, for a model of several, whose own state follows theirs — and moves
 * it between loading, ready and unhealthy. A backend that refuses
 * connections is still loading until its start-up deadline passes (TGI binds only after loading), then unhealthy.
 * Each outcome also goes to the engine supervisor, whose watchdog replaces a local engine that has stopped answering,
 * and to the replica router, which lets an ejected replica back once it answers ready after its ejection.
 * A ready replica that has answered a call since the last poll is not asked: that answer is the poll's evidence, as
 * good as a 200 from /health, and a busy gateway does not pay for a probe it does not need (PERFORMANCE.md). One
 * that answered nothing since, idle or failing, is probed as ever.
 */
@Injectable()
export class ReadinessMonitor implements OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private polling = false;
  /** Each replica's answered calls (ReplicaRouter) at its last poll. */
  private readonly answeredAtLastPoll = new WeakMap<ModelEntry, number>();

  constructor(
    @Inject(ModelRegistry) private readonly registry: ModelRegistry,
    @Inject(BackendDirectory) private readonly directory: BackendDirectory,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(EngineSupervisor) private readonly engines: EngineSupervisor,
    @Inject(ReplicaRouter) private readonly router: ReplicaRouter,
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
      const replicas = this.registry.list().flatMap((model) => this.registry.replicas(model.id));
      await Promise.all(replicas.map((entry) => this.poll(entry)));
    } finally {
      this.polling = false;
    }
  }

  private async poll(entry: ModelEntry): Promise<void> {
    const backend = this.directory.get(entry.id, entry.replica);
    const { state } = entry.status;
    // A failed model has no engine: its file is what is retried (ServerProcess).
    if (!backend || state === 'stopped' || state === 'starting' || state === 'failed') return;
    const answered = this.answeredSinceLastPoll(entry); // keeps this poll's count, whatever the state
    const probe = answered && state === 'ready' ? 'ready' : await backend.probe();
    if (entry.status.state === 'stopped') return; // a discovered replica that went while it was probed
    this.judge(entry, probe);
    this.engines.recordProbe(entry, probe);
    this.router.recordProbe(entry, probe);
  }

  private answeredSinceLastPoll(entry: ModelEntry): boolean {
    const answered = this.router.answeredCalls(entry.id, entry.replica);
    const before = this.answeredAtLastPoll.get(entry);
    this.answeredAtLastPoll.set(entry, answered);
    return before !== undefined && answered > before;
  }

  private judge(entry: ModelEntry, probe: ProbeResult): void {
    const { state, since } = entry.status;
    if (state === 'failed' || state === 'stopped' || state === 'starting') return; // changed while probing
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
