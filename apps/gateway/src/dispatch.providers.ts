import type { Provider } from '@nestjs/common';
import { InProcessDispatchQueue, type DispatchLimits } from '../../../libs/dispatch/src/index.js';
import { ModelRegistry } from '../../../libs/model-registry/src/index.js';

export const DISPATCH_QUEUE = Symbol('DISPATCH_QUEUE');

/** The per-model concurrency cap and bounded queue (in process; a Redis-backed one takes the same contract). */
export const dispatchQueueProvider: Provider = {
  provide: DISPATCH_QUEUE,
  inject: [ModelRegistry],
  useFactory: (registry: ModelRegistry) =>
    new InProcessDispatchQueue(
      new Map<string, DispatchLimits>(
        registry.list().map((entry) => [entry.descriptor.id, { maxConcurrent: entry.descriptor.maxConcurrent, maxQueued: entry.descriptor.maxQueued }]),
      ),
    ),
};
