import { InProcessDispatchQueue } from './in-process-dispatch-queue.js';
import { describeDispatchQueueBehaviour } from './testing/dispatch-queue-behaviour.js';

describeDispatchQueueBehaviour('InProcessDispatchQueue', async (limits, execute) => ({
  queue: new InProcessDispatchQueue(new Map([['m', limits]]), execute),
  close: async () => undefined,
}));
