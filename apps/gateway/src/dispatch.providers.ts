import { Inject, Injectable, Logger, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import {
  BullmqDispatchQueue,
  highestPriorityOf,
  InProcessDispatchQueue,
  type DispatchLimits,
  type DispatchQueue,
} from '#dispatch';
import { DISPATCH_DEFAULTS, ModelRegistry } from '#model-registry';
import { backendExecutor } from './backends/backend-executor.js';
import { BackendDirectory } from './backends/backend-directory.js';
import { EngineSupervisor } from './engines/engine-supervisor.service.js';
import { GATEWAY_CONFIG, type GatewayConfig } from './gateway-config.js';

export const DISPATCH_QUEUE = Symbol('DISPATCH_QUEUE');

/**
 * Builds the dispatch queue the environment asks for — BullMQ over REDIS_URL, shared by every replica using that
 * Redis, or in process without it — and closes it on shutdown.
 */
@Injectable()
export class DispatchQueueHost implements OnApplicationShutdown {
  readonly queue: DispatchQueue;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(ModelRegistry) registry: ModelRegistry,
    @Inject(BackendDirectory) directory: BackendDirectory,
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
    const execute = backendExecutor(registry, directory);
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

  /** Why the queue cannot take jobs now (its Redis unreachable); null when it can, as the in-process one always can. */
  unreachableReason(): Promise<string | null> {
    return this.queue instanceof BullmqDispatchQueue ? this.queue.unreachableReason() : Promise.resolve(null);
  }

  async onApplicationShutdown(): Promise<void> {
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
