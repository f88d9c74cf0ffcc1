import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StandingQueue } from './standing-queue.js';
import { ThroughputEstimate } from './throughput-estimate.js';

/** Jobs of 100 ms, 8 at a time, room for 256 to wait; the clock moves by hand. */
function setUp() {
  let now = 0;
  const throughput = new ThroughputEstimate();
  for (let i = 0; i < 50; i++) throughput.observe(100);
  const queue = new StandingQueue(throughput, () => now);
  const limits = { maxConcurrent: 8, maxQueued: 256 };
  return { queue, limit: () => queue.queueLimit(limits), advance: (ms: number) => (now += ms) };
}

describe('StandingQueue', () => {
  it('lets a burst fill max_queued, even after a long idle time', () => {
    const { queue, limit, advance } = setUp();
    advance(3_600_000);
    assert.equal(limit(), 256);
    queue.sawEmptyLine(); // the burst's first requests find free slots
    for (let i = 0; i < 9; i++) {
      advance(100);
      queue.started(100 * i); // the burst drains: every later job waited longer
    }
    assert.equal(limit(), 256, 'a second into the burst, the queue does not stand yet');
  });

  it('holds a queue that has stood for an interval to max_concurrent waiting, until the line is seen empty', () => {
    const { queue, limit, advance } = setUp();
    queue.sawEmptyLine();
    for (let i = 0; i < 15; i++) {
      advance(100);
      queue.started(500); // sustained overload: every job waits far longer than a service time
    }
    assert.equal(limit(), 8);
    advance(100);
    queue.started(20); // one short wait does not end it (no flapping) ...
    assert.equal(limit(), 8);
    queue.sawEmptyLine(); // ... an empty line does
    assert.equal(limit(), 256);
  });

  it('does not stand when jobs start within a service time', () => {
    const { queue, limit, advance } = setUp();
    for (let i = 0; i < 30; i++) {
      advance(100);
      queue.started(i % 2 ? 500 : 50);
    }
    assert.equal(limit(), 256);
  });
});
