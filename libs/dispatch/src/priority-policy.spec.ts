import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { highestPriorityOf, MAX_PRIORITY, priorityOf } from './priority-policy.js';

describe('priorityOf', () => {
  it('puts everyone on one priority under fifo', () => {
    assert.equal(
      priorityOf({ order: 'fifo', scenarioPriority: { chat: 1 } }, { scenario: 'chat', maxNewTokens: 10 }),
      0,
    );
  });

  it('orders by scenario, with unlisted scenarios and none after every listed one', () => {
    const policy = { order: 'scenario' as const, scenarioPriority: { chat: 1, qa: 2, summarize: 5 } };
    const of = (scenario?: string) => priorityOf(policy, { scenario, maxNewTokens: 10 });
    assert.deepEqual([of('chat'), of('qa'), of('summarize'), of('rewrite'), of()], [1, 2, 5, 6, 6]);
  });

  it('orders shortest max_new_tokens first, within the range BullMQ accepts', () => {
    const policy = { order: 'shortest_first' as const, scenarioPriority: {} };
    assert.equal(priorityOf(policy, { maxNewTokens: 16 }), 16);
    assert.equal(priorityOf(policy, { maxNewTokens: 10_000_000 }), MAX_PRIORITY);
  });
});

describe('highestPriorityOf', () => {
  it("is the largest priority a policy gives a model's requests, leaving the rest of the range to turns", () => {
    const scenario = { order: 'scenario' as const, scenarioPriority: { chat: 1, summarize: 5 } };
    assert.equal(highestPriorityOf({ order: 'fifo', scenarioPriority: {} }, 512), 0);
    assert.equal(highestPriorityOf(scenario, 512), priorityOf(scenario, { scenario: 'unlisted', maxNewTokens: 1 }));
    assert.equal(highestPriorityOf({ order: 'shortest_first', scenarioPriority: {} }, 512), 512);
    assert.equal(highestPriorityOf({ order: 'shortest_first', scenarioPriority: {} }, 10_000_000), MAX_PRIORITY);
  });
});
