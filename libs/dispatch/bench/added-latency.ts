/**
 * Benchmark (a command, not a test): the latency each dispatch queue adds over calling the backend directly, at
 * steady request rates well below saturation, so that what is measured is the queue's own cost and not waiting.
 *
 *   npm run bench:dispatch -- [--rates 50,200] [--seconds 10] [--queues in-process,bullmq,bullmq-remote]
 *
 * Per request, added = time through queue.dispatch − time the job spent executing (the backend call). Executing time
 * is measured around the executor where it runs: here for `in-process` and `bullmq` (one replica, its own worker),
 * in the worker replica's process for `bullmq-remote` (an enqueue-only replica; a second process runs the jobs and
 * streams nothing back but the outcome). Backend: the TGI stand-in in its own process (~10 ms per request), through
 * a real TgiBackend; Redis: a redis-server of our own (or REDIS_URL). Requests arrive at a fixed rate (open loop).
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { TgiBackend, type GenerationRequest } from '#backends';
import { ManagedProcess } from '#test-support/processes';
import { startStandInProcess } from '#test-support/stand-in-process';
import type { DispatchQueue, JobExecutor } from '../src/dispatch-queue.js';
import { BullmqDispatchQueue, InProcessDispatchQueue } from '../src/index.js';
import { executorOn } from '../src/testing/backend-executor.js';
import { externalRedisUrl, startRedisServer } from '../src/testing/redis-server.js';
import { isWorkerReplicaReady, WORKER_REPLICA_SCRIPT } from '../src/testing/worker-replica-channel.js';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '50,200' },
    seconds: { type: 'string', default: '10' },
    queues: { type: 'string', default: 'in-process,bullmq,bullmq-remote' },
  },
});
const rates = values.rates.split(',').map(Number);
const seconds = Number(values.seconds);
const kinds = values.queues.split(',');
// Far above what the rates need (200/s × 10 ms ≈ 2 at once): nothing should wait for a slot.
const LIMITS = { maxConcurrent: 64, maxQueued: 1024 };

const percentile = (samples: number[], q: number) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const standIn = await startStandInProcess({
  script: { tokens: [' a', ' b', ' c'], firstTokenDelayMs: 4, tokenDelayMs: 3 },
  maxConcurrentRequests: 1000,
});
const backend = new TgiBackend(standIn.url, { maxSockets: 256 });
const ownRedis = externalRedisUrl() ? undefined : await startRedisServer();
const redisUrl = externalRedisUrl() ?? ownRedis!.url;

/** Executing time per request, measured around the executor, keyed by the prompt (unique per request). */
const executingMs = new Map<string, number>();
const onBackend = executorOn(backend, { connectMs: 2000, firstByteMs: 10_000, interTokenMs: 10_000 });
const execute: JobExecutor = async (modelId, request, context) => {
  const started = performance.now();
  try {
    return await onBackend(modelId, request, context);
  } finally {
    executingMs.set((request as GenerationRequest).inputs, performance.now() - started);
  }
};

interface Subject {
  queue: DispatchQueue;
  /** Where executing time is known: measured here, or only as the queue's own report (remote worker). */
  measuredHere: boolean;
  close(): Promise<void>;
}

async function subject(kind: string): Promise<Subject> {
  const limits = new Map([['m', LIMITS]]);
  if (kind === 'in-process')
    return { queue: new InProcessDispatchQueue(limits, execute), measuredHere: true, close: async () => undefined };
  const prefix = `sluice-bench-${randomUUID()}`;
  if (kind === 'bullmq') {
    const queue = new BullmqDispatchQueue({ redisUrl, prefix, limits, execute });
    await queue.whenReady();
    return { queue, measuredHere: true, close: () => queue.close() };
  }
  const worker = ManagedProcess.start(
    process.execPath,
    [WORKER_REPLICA_SCRIPT],
    {
      REDIS_URL: redisUrl,
      DISPATCH_PREFIX: prefix,
      BACKEND_URL: standIn.url,
      MAX_CONCURRENT: String(LIMITS.maxConcurrent),
      MAX_QUEUED: String(LIMITS.maxQueued),
    },
    { ipc: true },
  );
  await worker.waitForMessage(isWorkerReplicaReady);
  const queue = new BullmqDispatchQueue({ redisUrl, prefix, limits, execute, runWorkers: false });
  await queue.whenReady();
  return {
    queue,
    measuredHere: false,
    close: async () => {
      await queue.close();
      await worker.stop();
    },
  };
}

/** `call` at a fixed rate for `seconds` (after a warm-up): each request's total and added latency. */
async function run(rate: number, call: (inputs: string) => Promise<{ totalMs: number; addedMs: number }>) {
  const total: number[] = [];
  const added: number[] = [];
  const count = Math.round(rate * seconds);
  const warmUp = Math.min(50, Math.round(rate));
  const started = performance.now();
  const calls: Array<Promise<void>> = [];
  for (let i = 0; i < warmUp + count; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    calls.push(
      call(`bench ${randomUUID()}`).then(({ totalMs, addedMs }) => {
        if (i < warmUp) return;
        total.push(totalMs);
        added.push(addedMs);
      }),
    );
  }
  await Promise.all(calls);
  return { total, added };
}

/** The backend called directly, as the reference the queue is compared with. */
const direct = (inputs: string) => {
  const started = performance.now();
  return execute(
    'm',
    { inputs, parameters: { max_new_tokens: 8 } },
    { signal: new AbortController().signal, deadline: Date.now() + 30_000 },
  ).then(() => ({
    totalMs: performance.now() - started,
    addedMs: 0,
  }));
};

const ms = (value: number) => value.toFixed(2).padStart(8);
console.log(
  `added latency of the dispatch queue over direct dispatch (${seconds} s per row, backend ≈ 10 ms, open loop)`,
);
console.log('queue            rate/s   direct p50   direct p99    via queue p50/p99         added p50    added p99');
for (const kind of kinds) {
  const s = await subject(kind);
  for (const rate of rates) {
    const reference = await run(rate, direct);
    const through = await run(rate, async (inputs) => {
      const startedAt = performance.now();
      const { queuedMs } = await s.queue.dispatch('m', {
        request: { inputs, parameters: { max_new_tokens: 8 } },
        priority: 0,
        deadline: Date.now() + 30_000,
        signal: new AbortController().signal,
      });
      const totalMs = performance.now() - startedAt;
      const addedMs = s.measuredHere ? totalMs - executingMs.get(inputs)! : queuedMs;
      executingMs.delete(inputs);
      return { totalMs, addedMs };
    });
    console.log(
      `${kind.padEnd(15)} ${String(rate).padStart(7)} ${ms(percentile(reference.total, 0.5))}     ${ms(percentile(reference.total, 0.99))}     ` +
        `${ms(percentile(through.total, 0.5))} ${ms(percentile(through.total, 0.99))}         ${ms(percentile(through.added, 0.5))}     ${ms(percentile(through.added, 0.99))}`,
    );
  }
  await s.close();
}
console.log(
  'ms; "added" per request = through the queue − executing the job (the backend call); goal: bullmq p50 ≤ 2, p99 ≤ 10; in-process p99 ≤ 0.5',
);

backend.close();
await standIn.stop();
await ownRedis?.stop();
process.exit(0);
