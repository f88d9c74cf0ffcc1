/**
 * A TEST replica in its own process: a BullmqDispatchQueue whose workers run jobs on a TGI backend, and nothing else.
 * Tests start it to have a second replica they can kill outright (SIGKILL) mid-job; a benchmark, to have a worker
 * that does not share its event loop. Started with an IPC channel (WORKER_REPLICA_SCRIPT), it reports that it is ready
 * over it (WorkerReplicaReady) and stops when its parent goes, however the parent ends.
 *
 *   node dist/libs/dispatch/src/testing/worker-replica.js   (settings from the environment, below)
 */
import { TgiBackend } from '#backends';
import { BullmqDispatchQueue } from '../bullmq/bullmq-dispatch-queue.js';
import { executorOn } from './backend-executor.js';
import type { WorkerReplicaReady } from './worker-replica-channel.js';

const env = (key: string, fallback?: string): string => {
  const value = process.env[key] ?? fallback;
  if (value === undefined) throw new Error(`${key} is required`);
  return value;
};

const backend = new TgiBackend(env('BACKEND_URL'));
const queue = new BullmqDispatchQueue({
  redisUrl: env('REDIS_URL'),
  prefix: env('DISPATCH_PREFIX'),
  limits: new Map([
    [
      env('MODEL_ID', 'm'),
      { maxConcurrent: Number(env('MAX_CONCURRENT', '4')), maxQueued: Number(env('MAX_QUEUED', '100')) },
    ],
  ]),
  // The queue's own defaults unless a test sets them.
  ...(process.env.LOCK_DURATION_MS ? { lockDurationMs: Number(process.env.LOCK_DURATION_MS) } : {}),
  ...(process.env.STALLED_INTERVAL_MS ? { stalledIntervalMs: Number(process.env.STALLED_INTERVAL_MS) } : {}),
  execute: executorOn(backend, { connectMs: 2000, firstByteMs: 30_000, interTokenMs: 30_000 }),
});
const stop = () => void queue.close().then(() => process.exit(0));
await queue.whenReady();
process.stdout.write(`replica ready ${queue.replicaId}\n`);
if (process.send) {
  process.once('disconnect', stop);
  process.channel?.unref();
  const ready: WorkerReplicaReady = { type: 'replica-ready', replicaId: queue.replicaId };
  if (process.connected) process.send(ready, undefined, undefined, () => undefined);
  else stop(); // the parent went while we connected
}
process.on('SIGTERM', stop);
