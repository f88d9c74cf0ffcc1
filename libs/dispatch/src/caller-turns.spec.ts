import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GenerationOutcome } from '#backends';
import { CallerTurns, lineOrder, TURN_STEPS, turnCost, turnMemory, turnScale } from './caller-turns.js';
import type { DispatchJob, DispatchResult, JobExecutor } from './dispatch-queue.js';
import { InProcessDispatchQueue } from './in-process-dispatch-queue.js';
import { MAX_PRIORITY } from './priority-policy.js';

/**
 * The in-process line with one slot and an executor that answers at once, except the first job, which holds the slot
 * until released: everything dispatched meanwhile queues, and the order the executor sees is the line's order.
 */
function oneSlotLine(highestPriority: number) {
  const started: string[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const execute: JobExecutor = async (_modelId, request) => {
    const inputs = 'inputs' in request ? request.inputs : '';
    started.push(inputs);
    if (started.length === 1) await released;
    return outcomeOf(inputs);
  };
  const queue = new InProcessDispatchQueue(
    new Map([['m', { maxConcurrent: 1, maxQueued: 1000, maxQueueWaitMs: 60_000, highestPriority }]]),
    execute,
  );
  const jobs: Array<Promise<DispatchResult>> = [];
  const dispatch = (inputs: string, client: DispatchJob['client'], priority = 0) =>
    jobs.push(
      queue.dispatch('m', {
        request: { inputs, parameters: { max_new_tokens: 16 } },
        priority,
        client,
        deadline: Date.now() + 60_000,
        signal: new AbortController().signal,
      }),
    );
  const drain = async () => {
    release();
    await Promise.all(jobs);
    return started;
  };
  return { dispatch, drain };
}

function outcomeOf(inputs: string): GenerationOutcome {
  return {
    generatedText: inputs,
    finishReason: 'eos_token',
    inputTokens: 1,
    outputTokens: 1,
    seed: null,
    timings: { firstTokenMs: 0, backendMs: 0 },
  };
}

const caller = (id: string, weight = 1) => ({ id, weight });
const named = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('fair turns in the in-process line', () => {
  it("serves another caller's newcomer before the 100 jobs one caller queued ahead of it", async () => {
    const line = oneSlotLine(0);
    line.dispatch('hold', caller('flood'));
    for (const inputs of named('flood', 100)) line.dispatch(inputs, caller('flood'));
    line.dispatch('light', caller('light'));
    const started = await line.drain();
    assert.deepEqual(started, ['hold', 'light', ...named('flood', 100)], "then the flood's own, in arrival order");
  });

  it('gives a weight-2 caller two turns for each turn of a weight-1 caller', async () => {
    const line = oneSlotLine(0);
    line.dispatch('hold', caller('x'));
    for (const inputs of named('heavy', 12)) line.dispatch(inputs, caller('heavy', 2));
    for (const inputs of named('light', 12)) line.dispatch(inputs, caller('light', 1));
    const started = (await line.drain()).slice(1);
    for (let k = 1; k <= 6; k++) {
      const first = started.slice(0, 3 * k);
      assert.equal(first.filter((s) => s.startsWith('heavy')).length, 2 * k, `first ${3 * k}: ${first.join(' ')}`);
    }
    assert.deepEqual(
      started.filter((s) => s.startsWith('heavy')),
      named('heavy', 12),
    );
    assert.deepEqual(
      started.filter((s) => s.startsWith('light')),
      named('light', 12),
    );
  });

  it("keeps one caller's jobs in arrival order, and jobs that name no caller too", async () => {
    const line = oneSlotLine(0);
    line.dispatch('hold', undefined);
    for (const inputs of named('a', 30)) line.dispatch(inputs, caller('a', 3));
    for (const inputs of named('anon', 5)) line.dispatch(inputs, undefined);
    const started = await line.drain();
    assert.deepEqual(
      started.filter((s) => /^a\d/.test(s)),
      named('a', 30),
    );
    assert.deepEqual(
      started.filter((s) => s.startsWith('anon')),
      named('anon', 5),
    );
  });

  it('lets the priority policy decide first: turns only order jobs of one priority', async () => {
    const line = oneSlotLine(3);
    line.dispatch('hold', caller('x'));
    for (const inputs of named('urgent-flood', 10)) line.dispatch(inputs, caller('flood'), 1);
    for (const inputs of named('batch', 3)) line.dispatch(inputs, caller('light'), 3);
    line.dispatch('urgent-light', caller('light'), 1);
    const started = (await line.drain()).slice(1);
    assert.deepEqual(started.slice(-3), named('batch', 3), 'priority 3 after every priority 1, turns or not');
    assert.deepEqual(started.slice(0, 3), ['urgent-flood0', 'urgent-light', 'urgent-flood1']);
  });
});

describe('CallerTurns', () => {
  it('costs a turn in proportion to 1 / weight, never less than one step', () => {
    assert.deepEqual([1, 2, 3, 4, 6, 12, 100, 0.5].map(turnCost), [12, 6, 4, 3, 2, 1, 1, 24]);
    assert.equal(turnCost(0), TURN_STEPS, 'a weight that is not positive counts as 1');
  });

  /** A caller's job admitted now, as the queues do it: its turn, then its caller's next. */
  const admit = (turns: CallerTurns, priority: number, callerId: string) => {
    const turn = turns.turnOf(priority, callerId);
    turns.take(priority, callerId, 1, turn);
    return turn;
  };

  it('keeps turns per priority: jobs at one priority cost a caller no turns at another', () => {
    const turns = new CallerTurns(turnScale(3), turnMemory(4, 100));
    for (let i = 0; i < 6; i++) admit(turns, 3, 'a');
    turns.started(3, 4 * TURN_STEPS);
    assert.equal(turns.turnOf(1, 'a'), 0);
    assert.equal(turns.turnOf(3, 'b'), 4 * TURN_STEPS);
    assert.equal(turns.turnOf(9, 'a'), 6 * TURN_STEPS, 'a priority above the highest shares the highest');
  });

  it('never hands out a turn before the one that last started, and moves back to 0 without changing any order', () => {
    const turns = new CallerTurns(turnScale(0), turnMemory(4, 100));
    assert.deepEqual(
      Array.from({ length: 6 }, () => admit(turns, 0, 'a')),
      [0, 1, 2, 3, 4, 5].map((i) => i * TURN_STEPS),
    );
    admit(turns, 0, 'b');
    assert.equal(turns.turnOf(0, 'c'), 0, 'a newcomer starts level with the line');
    turns.started(0, 3 * TURN_STEPS);
    assert.equal(turns.turnOf(0, 'c'), 3 * TURN_STEPS, 'but not before the job that started last');
    const before = ['a', 'b', 'c'].map((id) => turns.turnOf(0, id));
    turns.rebase();
    const after = ['a', 'b', 'c'].map((id) => turns.turnOf(0, id));
    assert.deepEqual(
      after,
      before.map((turn) => turn - 3 * TURN_STEPS),
      'every turn moved back by the clock',
    );
    assert.deepEqual(after, [3 * TURN_STEPS, 0, 0], 'b, whose turn has come, is forgotten');
  });

  it('remembers no more callers than can hold a slot once nobody waits, and drops those whose turn has come', () => {
    const turns = new CallerTurns(turnScale(0), turnMemory(4, 10));
    // A thousand clients, once each, while a slot is free: each is rebased, given a turn, and started.
    for (let i = 0; i < 1000; i++) {
      turns.rebase();
      const turn = admit(turns, 0, `addr:client-${i}`);
      turns.started(0, turn);
    }
    turns.rebase();
    assert.ok(turns.callers <= 4, `${turns.callers} callers remembered`);
    // A backlog that never empties: the callers that came and went are swept as the clock passes them.
    for (let i = 0; i < 1000; i++) {
      turns.started(0, admit(turns, 0, 'flood'));
      admit(turns, 0, `addr:once-${i}`);
    }
    assert.ok(turns.callers <= 2 * (4 + 10) + 1, `${turns.callers} callers remembered`);
  });

  it("folds priority and turn into one number within BullMQ's range, saturating the turn rather than overflowing", () => {
    const fifo = turnScale(0);
    assert.equal(fifo.span, MAX_PRIORITY);
    assert.equal(lineOrder(fifo, 0, 0), 1);
    assert.equal(lineOrder(fifo, 0, 10 * MAX_PRIORITY), MAX_PRIORITY);
    const scenarios = turnScale(6);
    const orders = [
      [1, 0],
      [1, scenarios.span - 1],
      [1, 10 * scenarios.span],
      [2, 0],
      [6, 0],
      [6, 10 * scenarios.span],
    ].map(([priority, turn]) => lineOrder(scenarios, priority!, turn!));
    assert.deepEqual(
      orders,
      [...orders].sort((a, b) => a - b),
      'priority first, then turn',
    );
    assert.equal(orders[1], orders[2], 'a turn past its band saturates');
    assert.ok(orders[3]! > orders[2]!, 'and never reaches the next priority');
    assert.equal(orders[5], MAX_PRIORITY);
    assert.equal(lineOrder(scenarios, 9, 0), orders[4], 'a priority above the highest is ordered as the highest');
    assert.equal(turnScale(MAX_PRIORITY).span, 1, 'no room left: arrival order within a priority');
  });
});
