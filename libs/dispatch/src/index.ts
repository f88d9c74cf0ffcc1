export type {
  DispatchJob,
  DispatchLimits,
  DispatchQueue,
  DispatchResult,
  DispatchStats,
  ExecutionContext,
  JobExecutor,
} from './dispatch-queue.js';
export { InProcessDispatchQueue } from './in-process-dispatch-queue.js';
export { BullmqDispatchQueue, type BullmqDispatchQueueOptions } from './bullmq/bullmq-dispatch-queue.js';
export {
  FIFO_POLICY,
  highestPriorityOf,
  MAX_PRIORITY,
  priorityOf,
  type PriorityInput,
  type PriorityOrder,
  type PriorityPolicy,
} from './priority-policy.js';
export { DEFAULT_MAX_QUEUE_WAIT_MS } from './admission-rule.js';
export { commandConnection } from './bullmq/redis-connections.js';
export { RedisReplicaCalls, type ReplicaCallTicket } from './bullmq/replica-calls.js';
export { TURN_STEPS, turnCost } from './caller-turns.js';
