import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { PendingCount } from './pending-count.js';

function counted() {
  const registry = new Registry();
  const counts: PendingCount[] = [];
  const counter = new Counter({
    name: 'c_total',
    help: 'help',
    labelNames: ['kind'],
    registers: [registry],
    collect: () => PendingCount.flushAll(counts),
  });
  const series = (kind: string) => {
    const count = new PendingCount(counter.labels(kind));
    counts.push(count);
    return count;
  };
  return { registry, series };
}

describe('PendingCount', () => {
  it('hands what was counted to its counter when /metrics is read, once', async () => {
    const { registry, series } = counted();
    const input = series('input');
    input.add(3);
    input.add();
    assert.match(await registry.metrics(), /^c_total\{kind="input"\} 4$/m);
    assert.match(await registry.metrics(), /^c_total\{kind="input"\} 4$/m, 'a second read adds nothing');
    input.add(2);
    assert.match(await registry.metrics(), /^c_total\{kind="input"\} 6$/m);
  });

  it('shows a series from its first add, 0 included, as a Counter does from its first inc', async () => {
    const { registry, series } = counted();
    series('never');
    series('zero').add(0);
    const text = await registry.metrics();
    assert.doesNotMatch(text, /kind="never"/);
    assert.match(text, /^c_total\{kind="zero"\} 0$/m);
  });
});
