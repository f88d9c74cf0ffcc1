import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { predictedWaitMs, retryAfterSeconds, serviceRatePerS, waitBoundMs } from './admission-rule.js';
import { ServiceRate } from './service-rate.js';

/** The clock moves by hand. */
function setUp() {
  let now = 0;
  const rate = new ServiceRate(() => now);
  return { rate, advance: (ms: number) => (now += ms) };
}

describe('ServiceRate', () => {
  it('knows nothing before any job has run: a cold model admits a burst', () => {
    const { rate } = setUp();
    assert.equal(rate.serviceMs(0), 0);
    assert.equal(serviceRatePerS(rate.serviceMs(0), 8), null);
    rate.busy(); // the burst's first jobs take the slots; the rest arrive in the same millisecond
    assert.equal(predictedWaitMs({ ahead: 191, held: 199, slots: 8, serviceMs: rate.serviceMs(8) }), 0);
  });

  it('learns from the quiet time before the first completion: a slow backend is found out within one service time', () => {
    const { rate, advance } = setUp();
    rate.busy();
    advance(300);
    assert.equal(rate.serviceMs(8), 300, 'busy for 300 ms with nothing finished');
    assert.equal(predictedWaitMs({ ahead: 15, held: 24, slots: 8, serviceMs: rate.serviceMs(8) }), 600);
  });

  it('uses the mean service time once jobs finish, and the quiet time when the backend stalls', () => {
    const { rate, advance } = setUp();
    rate.busy();
    for (let i = 0; i < 20; i++) {
      advance(12.5);
      rate.observe(100, 8, false);
    }
    assert.equal(rate.serviceMs(8), 100);
    assert.equal(serviceRatePerS(rate.serviceMs(8), 8), 80);
    advance(400);
    assert.equal(rate.serviceMs(8), 400, 'nothing finished for 400 ms');
    assert.equal(rate.serviceMs(0), 100, 'an idle backend is not stalled');
  });

  it('measures the cycle while a queue stands: slots lost between jobs slow the line down', () => {
    const { rate, advance } = setUp();
    rate.busy();
    for (let i = 0; i < 200; i++) {
      advance(15); // 8 slots of 100 ms jobs would finish one every 12.5 ms; the hand-over costs the rest
      rate.observe(100, 8, true);
    }
    assert.ok(Math.abs(rate.serviceMs(8) - 120) < 1, `${rate.serviceMs(8)}`);
    assert.ok(Math.abs(serviceRatePerS(rate.serviceMs(8), 8)! - 1000 / 15) < 0.1, 'completions per second');
  });

  it('follows a change of service time (EWMA)', () => {
    const { rate } = setUp();
    rate.observe(100, 8, false);
    for (let i = 0; i < 20; i++) rate.observe(500, 8, false);
    assert.ok(Math.abs(rate.meanServiceMs! - 500) < 5);
  });
});

describe('admission rule', () => {
  it('predicts no wait with a slot free, and (ahead + 1) service times over the slots otherwise', () => {
    assert.equal(predictedWaitMs({ ahead: 0, held: 7, slots: 8, serviceMs: 100 }), 0);
    assert.equal(predictedWaitMs({ ahead: 0, held: 8, slots: 8, serviceMs: 100 }), 12.5);
    assert.equal(predictedWaitMs({ ahead: 7, held: 15, slots: 8, serviceMs: 100 }), 100);
  });

  it("bounds the wait by max_queue_wait_ms or the request's own deadline, whichever is nearer", () => {
    assert.equal(waitBoundMs(1000, 10_500, 10_000), 500);
    assert.equal(waitBoundMs(1000, 60_000, 10_000), 1000);
  });

  it('tells a refused client to come back when the predicted wait would fit, at least a second', () => {
    assert.equal(retryAfterSeconds(1200, 1000), 1);
    assert.equal(retryAfterSeconds(4500, 1000), 4);
  });
});
