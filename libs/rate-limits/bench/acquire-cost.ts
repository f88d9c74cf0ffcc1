/**
 * Benchmark (a command, not a test): what a limited key's request pays for its limits, an acquire at admission and a
 * release (with its token charge) at the end, in each limiter.
 *
 *   npm run bench:limits -- [--requests 5000] [--concurrency 1,32]
 *
 * Every request is limited on all three counts, far above what the run reaches, so each one is admitted and the
 * scripts do their whole work (trim, count, add; free the slot, charge the tokens). Redis: a redis-server of our own
 * (or REDIS_URL), over one connection with the gateway's settings (commandConnection).
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { commandConnection } from '#dispatch';
import { externalRedisUrl, startRedisServer } from '#dispatch/testing';
import { InProcessRateLimiter, RedisRateLimiter, type RateLimiter } from '../src/index.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '1,32' },
  },
});
const requests = Number(values.requests);
const concurrencies = values.concurrency.split(',').map(Number);
const LIMITS = { requestsPerMinute: 10_000_000, tokensPerMinute: 1_000_000_000, maxConcurrent: 100_000 };

const percentile = (samples: number[], q: number) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
};

/** `requests` acquire + release pairs, `concurrency` at a time; each pair's time in µs. */
async function run(limiter: RateLimiter, concurrency: number): Promise<{ samples: number[]; perSecond: number }> {
  const key = `bench-${randomUUID()}`;
  const samples: number[] = [];
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next++ < requests) {
      const t0 = performance.now();
      const acquisition = await limiter.acquire(key, LIMITS, { leaseExpiresAt: Date.now() + 60_000 });
      if (!acquisition.admitted) throw new Error(`refused: ${acquisition.refusedBy.join(', ')}`);
      await acquisition.permit.release(100);
      samples.push((performance.now() - t0) * 1000);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { samples, perSecond: requests / ((performance.now() - started) / 1000) };
}

const ownRedis = externalRedisUrl() ? undefined : await startRedisServer();
const redis = commandConnection(externalRedisUrl() ?? ownRedis!.url);
await new Promise((resolve) => redis.once('ready', resolve));
const limiters: Array<[string, RateLimiter]> = [
  ['in-process', new InProcessRateLimiter()],
  ['redis', new RedisRateLimiter({ redis, prefix: `sluice-bench-${randomUUID()}` })],
];

console.log(`acquire + release per limited request, ${requests} requests per row`);
console.log('limiter     concurrency   p50 µs   p99 µs   pairs/s');
for (const [name, limiter] of limiters) {
  for (const concurrency of concurrencies) {
    await run(limiter, concurrency); // warm-up: script load, JIT
    const { samples, perSecond } = await run(limiter, concurrency);
    console.log(
      `${name.padEnd(11)} ${String(concurrency).padStart(11)} ${percentile(samples, 0.5).toFixed(0).padStart(8)} ${percentile(samples, 0.99).toFixed(0).padStart(8)} ${perSecond.toFixed(0).padStart(9)}`,
    );
  }
}
await redis.quit();
await ownRedis?.stop();
