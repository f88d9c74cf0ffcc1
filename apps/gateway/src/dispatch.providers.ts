import { Inject, Injectable, Logger, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import {
  BullmqDispatchQueue,
  highestPriorityOf,
  InProcessDispatchQueue,
  type DispatchLimits,
  type DispatchQueue,
} from '#dispatch';
import { DISPATCH_DEFAULTS, ModelRegistry, type ModelEntry } from '#model-registry';
import { backendExecutor } from './backends/backend-executor.js';
import { BackendDirectory } from './backends/backend-directory.js';
import { EngineSupervisor } from './engines/engine-supervisor.service.js';
import { GATEWAY_CONFIG, type GatewayConfig } from './gateway-config.js';
import { ReplicaRouter } from './replicas/replica-router.service.js';

export const DISPATCH_QUEUE = Symbol('DISPATCH_QUEUE');

/**
 * Builds the dispatch queue the environment asks for — BullMQ over REDIS_URL, shared by every replica using that
 * Redis, or in process without it — and closes it on shutdown.
 */
@Injectable()
export class DispatchQueueHost implements OnApplicationShutdown {
  readonly queue: DispatchQueue;
  private readonly stopFollowingReplicas: () => void;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(ModelRegistry) registry: ModelRegistry,
    @Inject(BackendDirectory) directory: BackendDirectory,
    @Inject(ReplicaRouter) router: ReplicaRouter,
    // Depending on the engines makes Nest shut this down first: jobs still running here (other replicas' too) finish
    // before the engines they run on stop.
    @Inject(EngineSupervisor) _engines: EngineSupervisor,
  ) {
    const { priority: order, scenarioPriority } = registry.config.dispatch ?? DISPATCH_DEFAULTS;
    const limits = new Map<string, DispatchLimits>(
      registry.list().map(({ descriptor }) => [
        descriptor.id,
        {
          maxConcurrent: descriptor.maxConcurrent,
          maxQueued: descriptor.maxQueued,
          maxQueueWaitMs: descriptor.maxQueueWaitMs,
          // What the policy leaves of the priority range goes to callers' fair turns.
          highestPriority: highestPriorityOf({ order, scenarioPriority }, descriptor.maxNewTokens),
        },
      ]),
    );
    const execute = backendExecutor(registry, directory, router);
    this.stopFollowingReplicas = registry.onReplicaChange((replica) => this.followReadyReplicas(registry, replica));
    if (!config.redisUrl) {
      this.queue = new InProcessDispatchQueue(limits, execute);
      return;
    }
    const logger = new Logger('DispatchQueue');
    const queue = new BullmqDispatchQueue({
      redisUrl: config.redisUrl,
      prefix: config.dispatchPrefix,
      limits,
      execute,
      runWorkers: config.dispatchWorkers,
      onError: (message) => logger.warn(message),
    });
    logger.log(
      `BullMQ over ${redactedUrl(config.redisUrl)} (replica ${queue.replicaId}${config.dispatchWorkers ? '' : ', enqueue only'})`,
    );
    this.queue = queue;
  }

  /**
   * A model's cap is max_concurrent per ready replica, so that adding a replica adds slots and losing one takes its
   * slots away (jobs beyond it wait in line instead of piling onto the replicas left). With none ready it keeps one
   * replica's slots: the readiness gate and the executor refuse those jobs at once rather than holding them.
   */
  private followReadyReplicas(registry: ModelRegistry, changed: ModelEntry): void {
    const replicas = registry.replicas(changed.id);
    if (replicas.length === 1 && !changed.descriptor.discovery) return;
    const ready = replicas.filter((replica) => replica.state === 'ready').length;
    this.queue.setMaxConcurrent(changed.id, changed.descriptor.maxConcurrent * Math.max(1, ready));
  }

  /** Why the queue cannot take jobs now (its Redis unreachable); null when it can, as the in-process one always can. */
  unreachableReason(): Promise<string | null> {
    return this.queue instanceof BullmqDispatchQueue ? this.queue.unreachableReason() : Promise.resolve(null);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopFollowingReplicas();
    await this.queue.close();
  }
}

export const dispatchQueueProvider: Provider = {
  provide: DISPATCH_QUEUE,
  inject: [DispatchQueueHost],
  useFactory: (host: DispatchQueueHost) => host.queue,
};

/** The URL without its password, for the log. */
function redactedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
