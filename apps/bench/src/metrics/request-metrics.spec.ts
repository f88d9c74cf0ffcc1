import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { e2eMs, itlsMs, scheduleLagMs, tpotMs, ttftMs } from './request-metrics.js';
import { streamedRecord, syntheticRecord } from './test-records.js';

describe('per-request formulas on synthetic timelines', () => {
  // Meant for t=100, sent at 105 (5 ms late), tokens at 150, 160, 175, 180, answer complete at 181.
  const r = streamedRecord(100, [150, 160, 175, 180], { sent_ms: 105, end_ms: 181 });

  it('e2e runs from the intended send time to the end', () => {
    assert.equal(e2eMs(r), 81);
  });

  it('ttft runs from the intended send time to the first token event', () => {
    assert.equal(ttftMs(r), 50);
  });

  it('tpot is (last − first) / (output_tokens − 1)', () => {
    assert.equal(tpotMs(r), (180 - 150) / 3);
  });

  it('itl is every gap between consecutive token events, not their mean', () => {
    assert.deepEqual(itlsMs(r), [10, 15, 5]);
  });

  it('schedule lag is actual − intended send time', () => {
    assert.equal(scheduleLagMs(r), 5);
  });

  it('a one-token answer has a ttft but no tpot and no itl', () => {
    const one = streamedRecord(0, [30]);
    assert.equal(ttftMs(one), 30);
    assert.equal(tpotMs(one), null);
    assert.deepEqual(itlsMs(one), []);
  });

  it("tpot divides by the server's token count, not by the events the client happened to see", () => {
    const r2 = streamedRecord(0, [10, 20, 30], { usage: { input_tokens: 1, output_tokens: 5 } });
    assert.equal(tpotMs(r2), (30 - 10) / 4);
  });

  it('a non-streamed request has an e2e and nothing token-level', () => {
    const plain = syntheticRecord({
      stream: false,
      intended_ms: 10,
      sent_ms: 10,
      end_ms: 250,
      usage: { input_tokens: 3, output_tokens: 64 },
    });
    assert.equal(e2eMs(plain), 240);
    assert.equal(ttftMs(plain), null);
    assert.equal(tpotMs(plain), null);
    assert.deepEqual(itlsMs(plain), []);
  });

  it('a failed request has no latency at all', () => {
    const failed = streamedRecord(0, [10, 20], { ok: false, status: 200, error_type: 'upstream' });
    assert.equal(e2eMs(failed), null);
    assert.equal(ttftMs(failed), null);
    assert.equal(tpotMs(failed), null);
    assert.deepEqual(itlsMs(failed), []);
  });

  it('a dropped arrival has no schedule lag (it never went out)', () => {
    assert.equal(
      scheduleLagMs(syntheticRecord({ sent_ms: null, end_ms: null, ok: false, status: null, error_type: 'dropped' })),
      null,
    );
  });
});
