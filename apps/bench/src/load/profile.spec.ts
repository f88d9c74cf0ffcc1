import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { arrivalSchedule } from './arrival-schedule.js';
import { LoadProfile } from './profile.js';

describe('load profiles and the open-loop schedule', () => {
  it('ramp linearly between stage targets and jump on a 0 s stage', () => {
    const p = new LoadProfile(0, [
      { durationMs: 10_000, target: 10 },
      { durationMs: 0, target: 20 },
      { durationMs: 5000, target: 20 },
    ]);
    assert.equal(p.totalMs, 15_000);
    assert.equal(p.at(0), 0);
    assert.equal(p.at(5000), 5);
    assert.equal(p.at(10_000), 20);
    assert.equal(p.at(12_000), 20);
    assert.equal(p.at(99_000), 20);
  });

  it('space constant arrivals evenly, the first at 0', () => {
    const times = arrivalSchedule(LoadProfile.constant(10, 1000), 'constant', 1);
    assert.deepEqual(
      [...times].map((t) => Math.round(t * 1e6) / 1e6),
      [0, 100, 200, 300, 400, 500, 600, 700, 800, 900],
    );
  });

  it('make Poisson arrivals reproducible from the seed, and different for another seed', () => {
    const profile = LoadProfile.constant(50, 10_000);
    const a = arrivalSchedule(profile, 'poisson', 42);
    const b = arrivalSchedule(profile, 'poisson', 42);
    const c = arrivalSchedule(profile, 'poisson', 43);
    assert.deepEqual([...a], [...b]);
    assert.notDeepEqual([...a.slice(0, 10)], [...c.slice(0, 10)]);
  });

  it('give Poisson arrivals the right rate and exponential gaps', () => {
    const times = arrivalSchedule(LoadProfile.constant(1000, 20_000), 'poisson', 7);
    // 20,000 expected; the standard deviation is √20000 ≈ 141.
    assert.ok(Math.abs(times.length - 20_000) < 600, `count ${times.length}`);
    const gaps = Array.from({ length: times.length - 1 }, (_, i) => times[i + 1]! - times[i]!);
    const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
    assert.ok(Math.abs(mean - 1) < 0.03, `mean gap ${mean} ms`);
    // Exponential: P(gap > mean) = e⁻¹ ≈ 0.368.
    const above = gaps.filter((g) => g > 1).length / gaps.length;
    assert.ok(Math.abs(above - Math.exp(-1)) < 0.02, `fraction above the mean ${above}`);
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]!);
  });

  it('follow a ramp: arrivals where the cumulative rate reaches each integer', () => {
    // 0 → 10 req/s over 10 s: Λ(t) = t²/2 (t in s), so 50 arrivals, the k-th at √(2k) s.
    const times = arrivalSchedule(new LoadProfile(0, [{ durationMs: 10_000, target: 10 }]), 'constant', 1);
    assert.equal(times.length, 50);
    for (const k of [1, 8, 18, 32])
      assert.ok(Math.abs(times[k]! - Math.sqrt(2 * k) * 1000) < 1e-6, `arrival ${k} at ${times[k]}`);
  });

  it('stop at --requests', () => {
    assert.equal(arrivalSchedule(LoadProfile.constant(100, 10_000), 'poisson', 1, 25).length, 25);
  });
});
