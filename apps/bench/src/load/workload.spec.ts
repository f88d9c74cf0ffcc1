import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from './rng.js';
import { SCENARIO_PROMPTS, SEED_WORKLOAD, Workload } from './workload.js';

describe('the workload', () => {
  it('is the same request sequence for the same seed, and another for another seed', () => {
    const draw = (seed: number) => {
      const w = new Workload(SEED_WORKLOAD, seed);
      return Array.from({ length: 50 }, () => w.next());
    };
    assert.deepEqual(draw(9), draw(9));
    assert.notDeepEqual(draw(9), draw(10));
  });

  it("uses the guide's scenario prompts, max_new_tokens 64/128, temperature 0.7/0.9 and top_p 0.9", () => {
    const w = new Workload(SEED_WORKLOAD, 1);
    const specs = Array.from({ length: 400 }, () => w.next());
    assert.deepEqual(new Set(specs.map((s) => s.maxNewTokens)), new Set([64, 128]));
    assert.deepEqual(new Set(specs.map((s) => s.temperature)), new Set([0.7, 0.9]));
    assert.ok(specs.every((s) => s.topP === 0.9 && !s.stream));
    assert.deepEqual(new Set(specs.map((s) => s.scenario)), new Set(['qa', 'chat', 'summarize', 'rewrite']));
    for (const s of specs) assert.equal(s.inputs, SCENARIO_PROMPTS[s.scenario][s.lang]);
    assert.ok(specs.some((s) => s.inputs === '光合作用的原理是什么？'));
  });

  it('mixes models by weight', () => {
    const w = new Workload(
      {
        ...SEED_WORKLOAD,
        models: [
          { id: 'a', weight: 3 },
          { id: 'b', weight: 1 },
        ],
      },
      5,
    );
    const n = 4000;
    const a = Array.from({ length: n }, () => w.next()).filter((s) => s.model === 'a').length;
    assert.ok(Math.abs(a / n - 0.75) < 0.03, `share of a: ${a / n}`);
  });

  it('streams the asked fraction without changing the other draws', () => {
    const none = new Workload({ ...SEED_WORKLOAD, streamFraction: 0 }, 3);
    const half = new Workload({ ...SEED_WORKLOAD, streamFraction: 0.5 }, 3);
    const a = Array.from({ length: 1000 }, () => none.next());
    const b = Array.from({ length: 1000 }, () => half.next());
    assert.deepEqual(
      a.map((s) => [s.model, s.inputs, s.maxNewTokens]),
      b.map((s) => [s.model, s.inputs, s.maxNewTokens]),
    );
    const streamed = b.filter((s) => s.stream).length / 1000;
    assert.ok(Math.abs(streamed - 0.5) < 0.06, `streamed ${streamed}`);
  });

  it('draws uniform numbers in [0, 1) from a seeded generator', () => {
    const rng = new Rng(123);
    const values = Array.from({ length: 10_000 }, () => rng.next());
    assert.ok(values.every((v) => v >= 0 && v < 1));
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    assert.ok(Math.abs(mean - 0.5) < 0.02);
    assert.equal(new Rng(123).next(), values[0]);
  });
});
