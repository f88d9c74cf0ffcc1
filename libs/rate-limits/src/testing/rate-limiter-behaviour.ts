import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Acquisition, Admitted, RateLimiter, RateLimits, Refused } from '../rate-limiter.js';

/**
 * The behaviour every RateLimiter must show, written once and run against each (in process, and over a real
 * redis-server). Time is a clock the suite moves, so windows are crossed without waiting; every case uses a key of its
 * own.
 */
export interface LimiterUnderTest {
  limiter: RateLimiter;
  close(): Promise<void>;
}

/** Makes a limiter that reads the time from `clock`. */
export type LimiterFactory = (clock: () => number) => Promise<LimiterUnderTest>;

const SECOND = 1000;
const MINUTE = 60 * SECOND;

export function describeRateLimiterBehaviour(name: string, factory: LimiterFactory): void {
  describe(`${name}: the rate limiter contract`, () => {
    let now = Date.UTC(2026, 0, 1);
    let rig: LimiterUnderTest;
    before(async () => {
      rig = await factory(() => now);
    });
    after(async () => rig?.close());

    const acquire = (key: string, limits: RateLimits, leaseMs = 10 * MINUTE): Promise<Acquisition> =>
      rig.limiter.acquire(key, limits, { leaseExpiresAt: now + leaseMs });
    const admitted = async (key: string, limits: RateLimits, leaseMs?: number): Promise<Admitted> => {
      const acquisition = await acquire(key, limits, leaseMs);
      assert.equal(acquisition.admitted, true, `expected admission, got ${JSON.stringify(acquisition)}`);
      return acquisition;
    };
    const refused = async (key: string, limits: RateLimits): Promise<Refused> => {
      const acquisition = await acquire(key, limits);
      assert.equal(acquisition.admitted, false, `expected a refusal, got ${JSON.stringify(acquisition.state)}`);
      return acquisition;
    };
    const newKey = () => `key-${randomUUID()}`;

    it('admits requests_per_minute requests in any 60 s and refuses the next until the oldest has left', async () => {
      const key = newKey();
      const limits = { requestsPerMinute: 3 };
      const start = now;
      const remaining: number[] = [];
      for (const offset of [0, 10, 20]) {
        now = start + offset * SECOND;
        remaining.push((await admitted(key, limits)).state.requests!.remaining);
      }
      assert.deepEqual(remaining, [2, 1, 0]);
      now = start + 30 * SECOND;
      const refusal = await refused(key, limits);
      assert.deepEqual(refusal.refusedBy, ['requests']);
      assert.equal(refusal.retryAfterMs, 30 * SECOND, 'until the request at 0 s leaves, at 60 s');
      assert.deepEqual(refusal.state.requests, { limit: 3, remaining: 0, resetMs: 30 * SECOND });
      now = start + MINUTE - 1;
      assert.equal((await refused(key, limits)).retryAfterMs, 1);
      now = start + MINUTE;
      assert.equal((await admitted(key, limits)).state.requests!.remaining, 0);
      now = start + 2 * MINUTE;
    });

    it('lets no burst through at a minute boundary: the window slides, it does not restart', async () => {
      const key = newKey();
      const limits = { requestsPerMinute: 4 };
      const start = now;
      now = start + 59 * SECOND;
      for (let i = 0; i < 4; i++) await admitted(key, limits);
      now = start + 61 * SECOND; // a fixed window would have started afresh at 60 s
      assert.equal((await refused(key, limits)).retryAfterMs, 58 * SECOND);
      now = start + 119 * SECOND;
      for (let i = 0; i < 4; i++) await admitted(key, limits);
      now = start + 3 * MINUTE;
    });

    it('charges nothing for a refused request: refusals never push the wait further', async () => {
      const key = newKey();
      const limits = { requestsPerMinute: 2 };
      const start = now;
      await admitted(key, limits);
      await admitted(key, limits);
      for (let s = 1; s < 60; s += 5) {
        now = start + s * SECOND;
        assert.equal((await refused(key, limits)).retryAfterMs, (60 - s) * SECOND);
      }
      now = start + MINUTE;
      await admitted(key, limits);
      await admitted(key, limits);
      now = start + 3 * MINUTE;
    });

    it('admits on tokens already charged below tokens_per_minute, and refuses until enough charged tokens leave', async () => {
      const key = newKey();
      const limits = { tokensPerMinute: 80 };
      const start = now;
      const first = await admitted(key, limits);
      assert.deepEqual(first.state.tokens, { limit: 80, remaining: 80, resetMs: 0 });
      await first.permit.release(40);
      now = start + 20 * SECOND;
      const second = await admitted(key, limits);
      assert.equal(second.state.tokens!.remaining, 40, 'charged 40 of 80');
      assert.equal(second.state.tokens!.resetMs, 40 * SECOND, 'the charge at 0 s leaves at 60 s');
      await second.permit.release(50);
      now = start + 30 * SECOND;
      const refusal = await refused(key, limits);
      assert.deepEqual(refusal.refusedBy, ['tokens']);
      assert.deepEqual(refusal.state.tokens, { limit: 80, remaining: 0, resetMs: 30 * SECOND });
      assert.equal(refusal.retryAfterMs, 30 * SECOND, '90 charged: the 40 at 0 s must leave to get below 80');
      now = start + MINUTE;
      assert.equal((await admitted(key, limits)).state.tokens!.remaining, 30, 'the 50 charged at 20 s still count');
      now = start + 3 * MINUTE;
    });

    it('waits for as many charges as it takes to get below the limit', async () => {
      const key = newKey();
      const limits = { tokensPerMinute: 100 };
      const start = now;
      for (const [offset, tokens] of [
        [0, 30],
        [10, 30],
        [20, 30],
        [30, 40],
      ] as const) {
        now = start + offset * SECOND;
        await (await admitted(key, limits)).permit.release(tokens);
      }
      now = start + 40 * SECOND;
      // 130 charged: below 100 takes 31 gone, the charges at 0 s and 10 s, leaving at 70 s.
      assert.equal((await refused(key, limits)).retryAfterMs, 30 * SECOND);
      now = start + 3 * MINUTE;
    });

    it('charges tokens when the request ends, not when it was admitted', async () => {
      const key = newKey();
      const limits = { tokensPerMinute: 100 };
      const start = now;
      const long = await admitted(key, limits);
      now = start + 50 * SECOND;
      await long.permit.release(100);
      now = start + 70 * SECOND;
      assert.equal((await refused(key, limits)).retryAfterMs, 40 * SECOND);
      now = start + 3 * MINUTE;
    });

    it('holds max_concurrent slots until released, once each, and a slot never released frees at its lease expiry', async () => {
      const key = newKey();
      const limits = { maxConcurrent: 2 };
      const start = now;
      const a = await admitted(key, limits);
      await admitted(key, limits, 30 * SECOND); // its holder never comes back (a killed replica)
      const refusal = await refused(key, limits);
      assert.deepEqual(refusal.refusedBy, ['concurrent']);
      assert.equal(refusal.retryAfterMs, SECOND);
      await a.permit.release(0);
      await a.permit.release(0); // a second release frees nothing more
      const c = await admitted(key, limits);
      await refused(key, limits);
      now = start + 30 * SECOND;
      await admitted(key, limits);
      await refused(key, limits);
      await c.permit.release(0);
      now = start + 3 * MINUTE;
    });

    it('takes nothing from any limit when one refuses, and names every limit that refused', async () => {
      const key = newKey();
      const limits = { requestsPerMinute: 2, maxConcurrent: 1, tokensPerMinute: 10 };
      const start = now;
      const a = await admitted(key, limits);
      assert.deepEqual((await refused(key, limits)).refusedBy, ['concurrent']);
      await a.permit.release(12);
      now = start + 5 * SECOND;
      const b = await refused(key, limits);
      assert.deepEqual(b.refusedBy, ['tokens']);
      assert.equal(b.state.requests!.remaining, 1, 'neither refusal was counted as a request');
      now = start + MINUTE + 5 * SECOND;
      const c = await admitted(key, limits);
      assert.equal(c.state.requests!.remaining, 1);
      now = start + MINUTE + 6 * SECOND;
      const d = await refused(key, limits);
      assert.deepEqual(d.refusedBy, ['concurrent']);
      await c.permit.release(20);
      now = start + MINUTE + 7 * SECOND;
      await admitted(key, { requestsPerMinute: 2 });
      const e = await refused(key, limits);
      assert.deepEqual(e.refusedBy, ['requests', 'tokens']);
      assert.equal(e.retryAfterMs, 59 * SECOND, 'the later of the two: the tokens charged at 66 s');
      now = start + 4 * MINUTE;
    });

    it('waits for as many requests to leave as it takes when the limit was lowered below what the window holds', async () => {
      const key = newKey();
      const start = now;
      for (const offset of [0, 10, 20, 30]) {
        now = start + offset * SECOND;
        await admitted(key, { requestsPerMinute: 4 });
      }
      now = start + 40 * SECOND;
      // 4 counted, limit now 2: below it takes 3 gone, the third leaving at 80 s.
      const refusal = await refused(key, { requestsPerMinute: 2 });
      assert.equal(refusal.retryAfterMs, 40 * SECOND);
      assert.deepEqual(refusal.state.requests, { limit: 2, remaining: 0, resetMs: 20 * SECOND });
      now = start + 3 * MINUTE;
    });

    it('reads the wait off a long log of charges', async () => {
      const key = newKey();
      const limits = { tokensPerMinute: 200 };
      const start = now;
      for (let i = 0; i < 250; i++) {
        now = start + i * 100;
        await (await admitted(key, limits)).permit.release(i < 100 ? 0 : 1);
      }
      await (await admitted(key, limits)).permit.release(150);
      // 150 single tokens charged at 10.0 s, 10.1 s, … then 150 at once: 300 charged, below 200 takes 101 gone, the
      // 101st single token leaving at 80 s.
      assert.equal((await refused(key, limits)).retryAfterMs, start + 80_000 - now);
      now = start + 3 * MINUTE;
    });

    it('counts each key on its own', async () => {
      const [one, two] = [newKey(), newKey()];
      const limits = { requestsPerMinute: 1 };
      await admitted(one, limits);
      await refused(one, limits);
      await admitted(two, limits);
      now += 2 * MINUTE;
    });

    it('admits exactly requests_per_minute of many acquires made at once', async () => {
      const key = newKey();
      const limits = { requestsPerMinute: 7, maxConcurrent: 50 };
      const all = await Promise.all(Array.from({ length: 30 }, () => acquire(key, limits)));
      assert.equal(all.filter((a) => a.admitted).length, 7);
      const remaining = all.filter((a) => a.admitted).map((a) => a.state.requests!.remaining);
      assert.deepEqual(
        remaining.sort((x, y) => y - x),
        [6, 5, 4, 3, 2, 1, 0],
      );
      now += 2 * MINUTE;
    });
  });
}
