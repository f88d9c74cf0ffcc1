import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../backends/src/index.js';
import { InProcessDispatchQueue } from './in-process-dispatch-queue.js';

const queue = (maxConcurrent: number, maxQueued: number) => new InProcessDispatchQueue(new Map([['m', { maxConcurrent, maxQueued }]]));
const options = (signal = new AbortController().signal, deadline = Date.now() + 10_000) => ({ signal, deadline });

describe('InProcessDispatchQueue', () => {
  it('runs up to maxConcurrent at once and serves the rest in arrival order', async () => {
    const q = queue(2, 10);
    const a = await q.acquire('m', options());
    await q.acquire('m', options());
    const order: number[] = [];
    const waiting = [1, 2, 3].map((n) => q.acquire('m', options()).then((slot) => { order.push(n); return slot; }));
    assert.deepEqual(q.stats('m'), { inFlight: 2, queued: 3 });
    a.release();
    const first = await waiting[0]!;
    first.release();
    (await waiting[1]!).release();
    await waiting[2];
    assert.deepEqual(order, [1, 2, 3]);
    assert.ok(first.queuedMs >= 0);
  });

  it('refuses past maxQueued with overloaded and a Retry-After of at least a second', async () => {
    const q = queue(1, 1);
    await q.acquire('m', options());
    void q.acquire('m', options()).catch(() => {});
    await assert.rejects(q.acquire('m', options()), (e: unknown) => e instanceof GatewayError && e.type === 'overloaded' && e.status === 429 && (e.retryAfterS ?? 0) >= 1);
  });

  it('fails a request whose deadline passes while queued with timeout, and it never gets a slot', async () => {
    const q = queue(1, 5);
    const held = await q.acquire('m', options());
    await assert.rejects(q.acquire('m', options(undefined, Date.now() + 30)), (e: unknown) => e instanceof GatewayError && e.type === 'timeout');
    assert.equal(q.stats('m').queued, 0);
    held.release();
    assert.equal(q.stats('m').inFlight, 0);
  });

  it('drops a waiter whose client disconnects', async () => {
    const q = queue(1, 5);
    const held = await q.acquire('m', options());
    const controller = new AbortController();
    const abandoned = q.acquire('m', options(controller.signal));
    controller.abort(new Error('client gone'));
    await assert.rejects(abandoned, /client gone/);
    assert.equal(q.stats('m').queued, 0);
    held.release();
    assert.equal(q.stats('m').inFlight, 0);
  });

  it('releasing twice gives back one slot', async () => {
    const q = queue(1, 5);
    const slot = await q.acquire('m', options());
    slot.release();
    slot.release();
    assert.equal(q.stats('m').inFlight, 0);
  });
});
