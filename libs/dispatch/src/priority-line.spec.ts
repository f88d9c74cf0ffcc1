import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PriorityLine } from './priority-line.js';

describe('PriorityLine', () => {
  it('gives lower priority numbers first and keeps arrival order within a priority', () => {
    const line = new PriorityLine<string>();
    for (const [item, priority] of [
      ['c1', 3],
      ['a1', 1],
      ['b1', 2],
      ['a2', 1],
      ['c2', 3],
      ['b2', 2],
      ['a3', 1],
    ] as const)
      line.push(item, priority);
    const out: string[] = [];
    while (line.size > 0) out.push(line.shift()!);
    assert.deepEqual(out, ['a1', 'a2', 'a3', 'b1', 'b2', 'c1', 'c2']);
  });

  it('takes a place out from anywhere in the line, once', () => {
    const line = new PriorityLine<number>();
    const places = Array.from({ length: 50 }, (_, i) => line.push(i, i % 5));
    for (const place of places.filter((_, i) => i % 3 === 0)) assert.equal(line.remove(place), true);
    assert.equal(line.remove(places[0]!), false);
    const out: number[] = [];
    while (line.size > 0) out.push(line.shift()!);
    const expected = places
      .filter((_, i) => i % 3 !== 0)
      .sort((a, b) => a.priority - b.priority || a.arrival - b.arrival)
      .map((p) => p.item);
    assert.deepEqual(out, expected);
  });

  it('counts the places a newcomer of a priority would wait behind', () => {
    const line = new PriorityLine<number>();
    for (const priority of [3, 1, 2, 1, 3]) line.push(priority, priority);
    assert.equal(line.countAhead(0), 0);
    assert.equal(line.countAhead(1), 2);
    assert.equal(line.countAhead(2), 3);
    assert.equal(line.countAhead(Infinity), 5);
  });
});
