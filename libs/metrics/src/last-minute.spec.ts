import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LAST_MINUTE_S, LastMinute } from './last-minute.js';
import type { RequestRecord } from './request-record.js';

/** A clock the test moves by hand. */
function clock(start = 1_800_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const ok = (modelId: string, latencyMs: number, timeToFirstTokenMs?: number): RequestRecord => ({
  modelId,
  outcome: 'ok',
  latencyMs,
  ...(timeToFirstTokenMs === undefined ? {} : { timeToFirstTokenMs }),
});

/** Nearest rank over raw samples, as the bench computes it. */
function exactPercentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
}

describe('LastMinute', () => {
  it('reads p50 and p99 within 2 % of the exact nearest-rank percentiles of the same samples', () => {
    const time = clock();
    const window = new LastMinute(time.now);
    const samples: number[] = [];
    // A skewed spread from sub-millisecond to seconds, over 30 seconds.
    for (let i = 0; i < 3000; i++) {
      const latency = 0.2 * Math.exp(((i * 7919) % 3000) / 380);
      samples.push(latency);
      window.record(ok('qwen2', latency, latency / 4));
      if (i % 100 === 99) time.advance(1000);
    }
    const figures = window.of('qwen2');
    assert.equal(figures.latencyMs.count, 3000);
    for (const p of [50, 99] as const) {
      const exact = exactPercentile(samples, p);
      const read = figures.latencyMs[`p${p}`]!;
      assert.ok(Math.abs(read / exact - 1) <= 0.02, `p${p}: read ${read}, exact ${exact}`);
      const exactTtft = exactPercentile(
        samples.map((s) => s / 4),
        p,
      );
      const readTtft = figures.timeToFirstTokenMs[`p${p}`]!;
      assert.ok(Math.abs(readTtft / exactTtft - 1) <= 0.02, `ttft p${p}: read ${readTtft}, exact ${exactTtft}`);
    }
  });

  it('rates over the time since the first answer until a minute has passed, then over the minute', () => {
    const time = clock(1_800_000_000_500); // mid-second: the rate must not count the half second before
    const window = new LastMinute(time.now);
    for (let i = 0; i < 100; i++) {
      window.record(ok('qwen2', 10));
      time.advance(100); // 10 per second
    }
    assert.ok(Math.abs(window.of('qwen2').requestsPerS - 10) < 0.2, `${window.of('qwen2').requestsPerS}`);
    for (let i = 0; i < 1000; i++) {
      window.record(ok('qwen2', 10));
      time.advance(100);
    }
    const figures = window.of('qwen2');
    assert.ok(figures.requests >= 590 && figures.requests <= 600, `${figures.requests} in the last minute`);
    assert.ok(Math.abs(figures.requestsPerS - 10) < 0.2, `${figures.requestsPerS}`);
    assert.equal(figures.perSecond.length, LAST_MINUTE_S);
    assert.ok(
      figures.perSecond.slice(0, -1).every((n) => n === 10),
      figures.perSecond.join(','),
    );
  });

  it('forgets answers older than a minute, and slots a new second reuses', () => {
    const time = clock();
    const window = new LastMinute(time.now);
    window.record(ok('qwen2', 10));
    window.record({ modelId: 'qwen2', outcome: 'timeout', latencyMs: 30_000 });
    assert.equal(window.of('qwen2').requests, 2);
    time.advance(LAST_MINUTE_S * 1000);
    assert.deepEqual(window.of('qwen2'), {
      requests: 0,
      requestsPerS: 0,
      perSecond: new Array(LAST_MINUTE_S).fill(0),
      errors: {},
      latencyMs: { count: 0, p50: null, p99: null },
      timeToFirstTokenMs: { count: 0, p50: null, p99: null },
    });
    window.record(ok('qwen2', 20)); // same slot as the first two, a minute later
    assert.equal(window.of('qwen2').requests, 1);
    assert.equal(window.of('qwen2').latencyMs.count, 1);
  });

  it('counts errors by type per model, leaves them out of the latencies, and totals every model and none', () => {
    const window = new LastMinute(clock().now);
    window.record(ok('qwen2', 10));
    window.record({ modelId: 'qwen2', outcome: 'timeout', latencyMs: 30_000 });
    window.record({ modelId: 'qwen2', outcome: 'overloaded', latencyMs: 1 });
    window.record({ modelId: 'qwen2', outcome: 'overloaded', latencyMs: 1 });
    window.record({ modelId: 'llama3', outcome: 'upstream', latencyMs: 5 });
    window.record({ modelId: null, outcome: 'model_not_found', latencyMs: 1 });
    const qwen2 = window.of('qwen2');
    assert.deepEqual(qwen2.errors, { timeout: 1, overloaded: 2 });
    assert.equal(qwen2.requests, 4);
    assert.equal(qwen2.latencyMs.count, 1);
    assert.ok(Math.abs(qwen2.latencyMs.p99! / 10 - 1) <= 0.02);
    assert.deepEqual(window.of('llama3').errors, { upstream: 1 });
    assert.equal(window.of('llama3').latencyMs.p50, null);
    assert.deepEqual(window.of(null).errors, { model_not_found: 1 });
    assert.equal(window.of('never-seen').requests, 0);
    const total = window.total();
    assert.equal(total.requests, 6);
    assert.deepEqual(total.errors, { model_not_found: 1, overloaded: 2, timeout: 1, upstream: 1 });
  });
});
