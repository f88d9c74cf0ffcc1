/** Test helpers for anything that uses the dispatch queue (the gateway's tests and benchmarks too): import them from here. */
export {
  describeDispatchQueueBehaviour,
  promptOf,
  rejection,
  until,
  type QueueFactory,
  type QueueUnderTest,
} from './dispatch-queue-behaviour.js';
export { executorOn } from './backend-executor.js';
export { redisContents } from './redis-contents.js';
export {
  externalRedisUrl,
  redisForGateways,
  startRedisServer,
  type GatewayRedis,
  type TestRedis,
} from './redis-server.js';
