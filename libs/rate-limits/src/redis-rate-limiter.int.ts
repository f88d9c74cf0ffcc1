import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startRedisServer, type TestRedis } from '#dispatch/testing';
import { describeRateLimiterBehaviour } from '#rate-limits/testing';
import { InProcessRateLimiter } from './in-process-rate-limiter.js';
import { OutageFallbackRateLimiter, RateLimiterUnavailableError, type RedisDownPolicy } from './outage-fallback.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';

/** Fails at once while Redis is away, as the gateway's command connection does. */
function connect(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 2000,
    retryStrategy: (attempt) => Math.min(50 * attempt, 500),
  });
}

async function connected(redis: Redis): Promise<Redis> {
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  return redis;
}

describe('RedisRateLimiter over a REAL redis-server', () => {
  let server: TestRedis;
  before(async () => {
    server = await startRedisServer();
  });
  after(async () => server?.stop());

  describeRateLimiterBehaviour('Redis', async (clock) => {
    const redis = await connected(connect(server.url));
    const limiter = new RedisRateLimiter({ redis, prefix: `test-${randomUUID()}`, clock, ownsConnection: true });
    return { limiter, close: () => limiter.close() };
  });

  it('admits exactly N over three connections racing for one key (replicas sharing Redis)', async () => {
    const prefix = `race-${randomUUID()}`;
    const limiters = await Promise.all(
      [0, 1, 2].map(
        async () => new RedisRateLimiter({ redis: await connected(connect(server.url)), prefix, ownsConnection: true }),
      ),
    );
    try {
      const limits = { requestsPerMinute: 25, maxConcurrent: 1000 };
      const all = await Promise.all(
        Array.from({ length: 150 }, (_, i) =>
          limiters[i % 3]!.acquire('team', limits, { leaseExpiresAt: Date.now() + 60_000 }),
        ),
      );
      assert.equal(all.filter((a) => a.admitted).length, 25);
      const slots = { maxConcurrent: 4 };
      const held = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          limiters[i % 3]!.acquire('slots', slots, { leaseExpiresAt: Date.now() + 60_000 }),
        ),
      );
      assert.equal(held.filter((a) => a.admitted).length, 4);
    } finally {
      await Promise.all(limiters.map((limiter) => limiter.close()));
    }
  });

  it('leaves nothing behind: every key it writes expires once nothing in it can count', async () => {
    const prefix = `ttl-${randomUUID()}`;
    const redis = await connected(connect(server.url));
    const limiter = new RedisRateLimiter({ redis, prefix });
    try {
      const acquisition = await limiter.acquire(
        'team',
        { requestsPerMinute: 5, tokensPerMinute: 100, maxConcurrent: 2 },
        { leaseExpiresAt: Date.now() + 120_000 },
      );
      assert.ok(acquisition.admitted);
      await acquisition.permit.release(42);
      const held = await limiter.acquire('team', { maxConcurrent: 2 }, { leaseExpiresAt: Date.now() + 120_000 });
      assert.ok(held.admitted, 'a slot still held, never released');
      const keys = await redis.keys(`${prefix}:*`);
      assert.deepEqual(keys.sort(), [
        `${prefix}:limits:team:leases`,
        `${prefix}:limits:team:requests`,
        `${prefix}:limits:team:tokens`,
        `${prefix}:limits:team:tokens-sum`,
      ]);
      for (const key of keys) {
        const ttl = await redis.pttl(key);
        assert.ok(ttl > 0 && ttl <= 120_000, `${key} expires (PTTL ${ttl})`);
      }
      assert.equal(await redis.get(`${prefix}:limits:team:tokens-sum`), '42');
    } finally {
      redis.disconnect();
    }
  });

  for (const policy of ['refuse', 'local'] as const satisfies readonly RedisDownPolicy[]) {
    it(`with Redis down and policy "${policy}": says so once, reports every decision, and recovers by itself`, async () => {
      const own = await startRedisServer();
      const redis = await connected(connect(own.url));
      const events: string[] = [];
      const limiter = new OutageFallbackRateLimiter(
        new RedisRateLimiter({ redis, prefix: 'outage' }),
        policy,
        new InProcessRateLimiter(),
        {
          onOutage: () => events.push('outage'),
          onRecovery: () => events.push('recovery'),
          onDecidedWithoutRedis: (decision) => events.push(decision),
        },
      );
      const limits = { requestsPerMinute: 2 };
      const acquire = () => limiter.acquire('team', limits, { leaseExpiresAt: Date.now() + 60_000 });
      try {
        assert.ok((await acquire()).admitted);
        await own.stop();
        const startedAt = performance.now();
        for (let i = 0; i < 3; i++) {
          if (policy === 'refuse') await assert.rejects(acquire(), RateLimiterUnavailableError);
          else assert.equal((await acquire()).admitted, i < 2, 'this replica counts alone, from zero');
        }
        assert.ok(performance.now() - startedAt < 1000, 'decided at once, not after a timeout');
        assert.deepEqual(events, ['outage', policy, policy, policy]);
        await own.start();
        await connected(redis);
        assert.ok((await acquire()).admitted, 'the restarted Redis is empty');
        assert.deepEqual(events.slice(4), ['recovery']);
      } finally {
        redis.disconnect();
        await own.stop();
      }
    });
  }
});
