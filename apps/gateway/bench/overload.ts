/**
 * Benchmark (a command, not a test): the gateway under sustained overload. A TGI stand-in (own process) that takes
 * `--max-concurrent` generations at once and answers 429 past that, as TGI does, sits behind the real gateway; the
 * load is `--overload` times the backend's measured capacity, open loop, for `--seconds`.
 *
 *   npm run bench:overload -- [--queues in-process,bullmq] [--seconds 60] [--overload 5] [--max-concurrent 8]
 *                             [--max-queued 256] [--service-ms 100] [--max-queue-wait-ms <service-ms>]
 *
 * Prints, per dispatch queue: the latency of admitted requests (before and during overload, and per 10 s window, to
 * show that it holds steady from the first second rather than growing), how fast refusals come (429 p50/p99), and
 * goodput — answers completed while the overload lasted, per second — against the backend's capacity. Goals: admitted
 * p99 within 2x the unloaded p99 in every window, 429 p99 ≤ 20 ms, goodput ≥ 97 %. The model's max_queue_wait_ms is
 * one service time by default: a queue wait of at most one more service time is what "within 2x" allows.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { startRedisServer } from '#dispatch/testing';
import { startGateway, writeModelsConfig } from '#test-support/gateway';
import { startStandInProcess } from '#test-support/stand-in-process';

const { values } = parseArgs({
  options: {
    queues: { type: 'string', default: 'in-process,bullmq' },
    seconds: { type: 'string', default: '60' },
    overload: { type: 'string', default: '5' },
    'max-concurrent': { type: 'string', default: '8' },
    'max-queued': { type: 'string', default: '256' },
    'service-ms': { type: 'string', default: '100' },
    'max-queue-wait-ms': { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const overload = Number(values.overload);
const maxConcurrent = Number(values['max-concurrent']);
const maxQueued = Number(values['max-queued']);
const serviceMs = Number(values['service-ms']);
const maxQueueWaitMs = Number(values['max-queue-wait-ms'] ?? serviceMs);
const TOKENS = 8;

const agent = new http.Agent({ keepAlive: true, maxSockets: 4096 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (samples: number[], q: number) => {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
};

interface Answer {
  sentAt: number;
  doneAt: number;
  status: number;
  /** The gateway's own refusal, as opposed to the backend's 429 (which would mean the cap did not hold). */
  refusedByGateway: boolean;
}

function post(url: string, body: unknown): Promise<Answer> {
  const sentAt = performance.now();
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () =>
        resolve({
          sentAt,
          doneAt: performance.now(),
          status: res.statusCode ?? 0,
          refusedByGateway: text.includes('is at capacity'),
        }),
      );
    });
    req.on('error', () => resolve({ sentAt, doneAt: performance.now(), status: 0, refusedByGateway: false }));
    req.end(JSON.stringify(body));
  });
}

/** Open loop: `rate` requests per second for `forSeconds`, each answer kept. */
async function load(url: string, rate: number, forSeconds: number): Promise<{ answers: Answer[]; startedAt: number }> {
  const calls: Array<Promise<Answer>> = [];
  const startedAt = performance.now();
  const count = Math.round(rate * forSeconds);
  for (let i = 0; i < count; i++) {
    const wait = startedAt + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    calls.push(post(url, { model_id: 'm', inputs: `overload ${i}`, parameters: { max_new_tokens: TOKENS } }));
  }
  return { answers: await Promise.all(calls), startedAt };
}

/** The backend's capacity: exactly max_concurrent clients back to back, straight at it. */
async function measureCapacity(backendUrl: string, forMs: number): Promise<number> {
  let completed = 0;
  const until = performance.now() + forMs;
  await Promise.all(
    Array.from({ length: maxConcurrent }, async () => {
      while (performance.now() < until) {
        const answer = await post(`${backendUrl}/generate`, {
          inputs: 'capacity',
          parameters: { max_new_tokens: TOKENS },
        });
        if (answer.status === 200) completed++;
      }
    }),
  );
  return completed / (forMs / 1000);
}

const tokenDelayMs = Math.max(1, Math.round(serviceMs / (TOKENS + 2)));
const standIn = await startStandInProcess({
  script: {
    tokens: Array.from({ length: TOKENS }, (_, i) => ` t${i}`),
    firstTokenDelayMs: serviceMs - (TOKENS - 1) * tokenDelayMs,
    tokenDelayMs,
  },
  maxConcurrentRequests: maxConcurrent,
});
const capacity = await measureCapacity(standIn.url, 5000);
const offered = capacity * overload;
console.log(
  `backend: ${maxConcurrent} at a time, ~${serviceMs} ms each; measured capacity ${capacity.toFixed(1)} req/s`,
);
console.log(
  `overload: ${offered.toFixed(0)} req/s (${overload}x) for ${seconds} s; model max_concurrent ${maxConcurrent}, max_queued ${maxQueued}, max_queue_wait_ms ${maxQueueWaitMs}\n`,
);

const config = writeModelsConfig(`gpus: []
readiness: { required: all }
defaults:
  max_concurrent: ${maxConcurrent}
  max_queued: ${maxQueued}
  max_queue_wait_ms: ${maxQueueWaitMs}
  max_new_tokens: 64
  default_max_new_tokens: ${TOKENS}
  timeouts: { connect_ms: 2000, first_byte_ms: 30000, inter_token_ms: 10000, total_ms: 60000, startup_ms: 60000 }
models:
  - id: m
    quantization: test
    backend: { type: tgi, url: ${standIn.url} }
`);

const fmt = (ms: number) => (Number.isNaN(ms) ? '-' : ms.toFixed(1));
for (const kind of values.queues.split(',')) {
  const redis = kind === 'bullmq' ? await startRedisServer() : undefined;
  const gateway = await startGateway(config, { env: redis ? { REDIS_URL: redis.url } : {} });
  const url = `${gateway.url}/v1/generate`;
  try {
    await load(url, capacity / 2, 2); // warm-up
    const calm = (await load(url, capacity / 2, 5)).answers
      .filter((a) => a.status === 200)
      .map((a) => a.doneAt - a.sentAt);
    const { answers, startedAt } = await load(url, offered, seconds);
    const endedAt = startedAt + seconds * 1000;
    const admitted = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429 && a.refusedByGateway);
    const other = answers.filter((a) => a.status !== 200 && !(a.status === 429 && a.refusedByGateway));
    const goodput = admitted.filter((a) => a.doneAt <= endedAt).length / seconds;
    const latency = (list: Answer[]) => list.map((a) => a.doneAt - a.sentAt);
    console.log(`== ${kind} dispatch queue`);
    console.log(
      `  admitted latency, at half capacity:   p50 ${fmt(percentile(calm, 0.5))} ms  p99 ${fmt(percentile(calm, 0.99))} ms`,
    );
    console.log(
      `  admitted latency, during overload:    p50 ${fmt(percentile(latency(admitted), 0.5))} ms  p99 ${fmt(percentile(latency(admitted), 0.99))} ms  (${admitted.length} answered 200)`,
    );
    const windows: string[] = [];
    const windowP99s: number[] = [];
    for (let from = 0; from < seconds; from += 10) {
      const inWindow = admitted.filter(
        (a) => a.sentAt - startedAt >= from * 1000 && a.sentAt - startedAt < (from + 10) * 1000,
      );
      windowP99s.push(percentile(latency(inWindow), 0.99));
      windows.push(
        `${from}-${Math.min(seconds, from + 10)} s: ${fmt(percentile(latency(inWindow), 0.5))}/${fmt(percentile(latency(inWindow), 0.99))}`,
      );
    }
    console.log(`  admitted p50/p99 by send time (ms):   ${windows.join(', ')}`);
    const worst = Math.max(...windowP99s.filter((p) => !Number.isNaN(p)));
    console.log(
      `  worst window p99 / unloaded p99:      ${(worst / percentile(calm, 0.99)).toFixed(2)}x  (goal ≤ 2x, every window)`,
    );
    const steady = latency(admitted.filter((a) => a.sentAt - startedAt >= 10_000));
    console.log(
      `  admitted latency after the first 10 s: p50 ${fmt(percentile(steady, 0.5))} ms  p99 ${fmt(percentile(steady, 0.99))} ms`,
    );
    console.log(
      `  refused with 429:                     p50 ${fmt(percentile(latency(refused), 0.5))} ms  p99 ${fmt(percentile(latency(refused), 0.99))} ms  (${refused.length} refused)`,
    );
    console.log(
      `  goodput: ${goodput.toFixed(1)} req/s = ${((100 * goodput) / capacity).toFixed(1)} % of capacity; other answers: ${other.length}` +
        (other.length ? ` (${[...new Set(other.map((a) => a.status))].join(', ')})` : ''),
    );
    console.log('');
  } finally {
    await gateway.stop();
    await redis?.stop();
  }
}
await standIn.stop();
agent.destroy();
process.exit(0);
