import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RequestRecord } from '../metrics/request-record.js';
import { processGrowth, soakVerdict, type RssSample } from './memory-growth.js';
import { requestTotals } from './request-totals.js';

const MiB = 2 ** 20;
/** One sample a second, the values in MiB. */
const series = (...mib: number[]): RssSample[] => mib.map((v, i) => ({ atMs: i * 1000, rssBytes: v * MiB }));

function record(status: number | null, ok: boolean, errorType: string | null): RequestRecord {
  return {
    id: 0,
    model: 'qwen2',
    scenario: 'qa',
    lang: 'en',
    stream: false,
    max_new_tokens: 8,
    intended_ms: 0,
    sent_ms: status === null ? null : 0,
    first_token_ms: null,
    token_ms: [],
    end_ms: status === null ? null : 5,
    status,
    ok,
    error_type: errorType,
    error: null,
    usage: null,
    server: null,
    warmup: false,
  };
}

describe('soak memory growth', () => {
  it('ignores the warm-up and compares the mean of the first and last samples after it', () => {
    // Warm-up (t < 2 s) climbs from 50 to 90 MiB; after it: baseline mean(100, 102) = 101, final mean(108, 110) = 109.
    const g = processGrowth('gateway', 7, series(50, 90, 100, 102, 120, 108, 110), 2000, 2, 0.1);
    assert.equal(g.samples, 5);
    assert.equal(g.baselineBytes, 101 * MiB);
    assert.equal(g.finalBytes, 109 * MiB);
    assert.equal(g.peakBytes, 120 * MiB);
    assert.ok(Math.abs(g.growth! - 8 / 101) < 1e-12);
    assert.equal(g.pass, true);
  });

  it('fails a process that grows more than the limit, and passes one that shrinks', () => {
    const grown = processGrowth('engine qwen2', 8, series(100, 100, 100, 112, 112, 112), 0, 3, 0.1);
    assert.ok(Math.abs(grown.growth! - 0.12) < 1e-12);
    assert.equal(grown.pass, false);
    const shrunk = processGrowth('gateway', 7, series(100, 100, 90), 0, 1, 0.1);
    assert.ok(Math.abs(shrunk.growth! + 0.1) < 1e-12);
    assert.equal(shrunk.pass, true);
  });

  it('has no figure when no sample came after the warm-up', () => {
    const g = processGrowth('gateway', 7, series(100, 110), 5000, 3, 0.1);
    assert.equal(g.growth, null);
    assert.equal(g.pass, false);
  });

  it('counts a client timeout, a lost connection and a dropped arrival as unanswered, a 5xx as an answer', () => {
    const totals = requestTotals([
      record(200, true, null),
      record(503, false, 'unavailable'),
      record(429, false, 'overloaded'),
      record(0, false, 'client_timeout'),
      record(200, false, 'client_timeout'),
      record(0, false, 'network'),
      record(null, false, 'dropped'),
    ]);
    assert.deepEqual(
      { total: totals.total, ok: totals.ok, errorAnswers: totals.errorAnswers, unanswered: totals.unanswered },
      { total: 7, ok: 1, errorAnswers: 2, unanswered: 4 },
    );
    assert.deepEqual(totals.byStatus, { '200': 2, '503': 1, '429': 1, none: 3 });
  });

  it('passes only when every process held and every request was answered', () => {
    const held = processGrowth('gateway', 7, series(100, 101), 0, 1, 0.1);
    const grew = processGrowth('engine qwen2', 8, series(100, 130), 0, 1, 0.1);
    const answered = requestTotals([record(200, true, null), record(500, false, 'internal')]);
    const oneLost = requestTotals([record(200, true, null), record(0, false, 'client_timeout')]);
    assert.equal(soakVerdict([held], answered, false), 'pass');
    assert.equal(soakVerdict([held, grew], answered, false), 'fail');
    assert.equal(soakVerdict([held], oneLost, false), 'fail');
    assert.equal(soakVerdict([held], answered, true), 'invalid');
    assert.equal(soakVerdict([], answered, false), 'invalid');
  });
});
