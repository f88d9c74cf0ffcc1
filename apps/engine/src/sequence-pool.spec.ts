import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SequencePool } from './sequence-pool.js';

describe('SequencePool', () => {
  it('hands out free items at once and counts them in use', async () => {
    const pool = new SequencePool(['a', 'b']);
    const first = await pool.acquire();
    const second = await pool.acquire();
    assert.deepEqual(new Set([first, second]), new Set(['a', 'b']));
    assert.equal(pool.inUse, 2);
    assert.equal(pool.capacity, 2);
  });

  it('serves waiters first come, first served', async () => {
    const pool = new SequencePool(['only']);
    const held = await pool.acquire();
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) =>
      pool.acquire().then((item) => {
        order.push(n);
        return item;
      }),
    );
    assert.equal(pool.waiting, 3);
    for (let i = 0; i < 3; i++) {
      pool.release(held);
      await waits[i];
    }
    assert.deepEqual(order, [1, 2, 3]);
    assert.equal(pool.inUse, 1);
  });

  it('removes an aborted waiter from the line without giving it an item', async () => {
    const pool = new SequencePool(['only']);
    const held = await pool.acquire();
    const controller = new AbortController();
    const abandoned = pool.acquire(controller.signal);
    const next = pool.acquire();
    controller.abort(new Error('client left'));
    await assert.rejects(abandoned, /client left/);
    assert.equal(pool.waiting, 1);
    pool.release(held);
    assert.equal(await next, 'only');
  });

  it('returns the item to the free list when nobody waits', async () => {
    const pool = new SequencePool(['only']);
    pool.release(await pool.acquire());
    assert.equal(pool.inUse, 0);
    assert.equal(await pool.acquire(), 'only');
  });

  it('spreads work over groups: the next item comes from the least busy context', async () => {
    const items = [
      { context: 0, id: 'a' },
      { context: 0, id: 'b' },
      { context: 1, id: 'c' },
      { context: 1, id: 'd' },
    ];
    const pool = new SequencePool(items, (item) => item.context);
    const first = await pool.acquire();
    const second = await pool.acquire();
    assert.notEqual(first.context, second.context);
    pool.release(first);
    const third = await pool.acquire();
    assert.equal(third.context, first.context);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const pool = new SequencePool(['only']);
    await assert.rejects(pool.acquire(AbortSignal.abort(new Error('gone'))), /gone/);
    assert.equal(pool.inUse, 0);
  });
});
