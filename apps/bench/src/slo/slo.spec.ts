import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../cli/usage-error.js';
import { analyze } from '../metrics/summarize.js';
import { streamedRecord, syntheticRecord } from '../metrics/test-records.js';
import { evaluateSlos, formatSloValue } from './evaluate-slos.js';
import { parseSlo } from './slo.js';

describe('SLO expressions', () => {
  it("parse the guide's targets into canonical units", () => {
    assert.deepEqual(parseSlo('e2e.p99<1.5s'), {
      text: 'e2e.p99<1.5s',
      metric: { kind: 'latency', metric: 'e2e', stat: { percentile: 99 } },
      model: null,
      op: '<',
      threshold: 1500,
      unit: 's',
    });
    assert.deepEqual(parseSlo('qps>=10').metric, { kind: 'qps' });
    assert.equal(parseSlo('qps>=10').threshold, 10);
    assert.deepEqual(parseSlo('errors<1%').metric, { kind: 'errors', errorType: null });
    assert.equal(parseSlo('errors<1%').threshold, 0.01);
  });

  it('parse other latencies, statistics, operators, scopes and spacing', () => {
    assert.equal(parseSlo('ttft.p95<300ms').threshold, 300);
    assert.deepEqual(parseSlo('tpot.p50<50ms').metric, { kind: 'latency', metric: 'tpot', stat: { percentile: 50 } });
    assert.deepEqual(parseSlo('e2e.p99.9<=2s').metric, { kind: 'latency', metric: 'e2e', stat: { percentile: 99.9 } });
    assert.deepEqual(parseSlo('e2e.p99_9<=2s').metric, { kind: 'latency', metric: 'e2e', stat: { percentile: 99.9 } });
    assert.equal(parseSlo('e2e.p99.9<=2s').op, '<=');
    assert.deepEqual(parseSlo('itl.mean<20ms').metric, { kind: 'latency', metric: 'itl', stat: 'mean' });
    assert.deepEqual(parseSlo('server_ttft.max<1s').metric, { kind: 'latency', metric: 'server_ttft', stat: 'max' });
    assert.equal(parseSlo('e2e.p99[qwen2]<1500ms').model, 'qwen2');
    assert.deepEqual(parseSlo('errors.timeout<0.5%').metric, { kind: 'errors', errorType: 'timeout' });
    assert.equal(parseSlo('errors.timeout<0.5%').threshold, 0.005);
    assert.equal(parseSlo(' e2e.p99 < 1.5 s ').threshold, 1500);
    assert.equal(parseSlo('tokens_per_s>100/s').op, '>');
    assert.equal(parseSlo('qps>=.5').threshold, 0.5);
  });

  it('refuse what they cannot mean, with a usage error that shows how to write it', () => {
    const bad = [
      '',
      'e2e<1s',
      'e2e.p99<1.5',
      'errors<1',
      'errors<150%',
      'latency.p99<1s',
      'e2e.p101<1s',
      'e2e.p0<1s',
      'e2e.median<1s',
      'qps>=10ms',
      'qps.p99>=10',
      'e2e.p99=1s',
      'e2e.p99<1.5 seconds',
      'e2e.p99<-1s',
      'ttft.p95>',
    ];
    for (const text of bad) assert.throws(() => parseSlo(text), UsageError, text);
    assert.throws(() => parseSlo('e2e.p99<1.5'), /a latency needs a unit, ms or s/);
    assert.throws(() => parseSlo('nope<1s'), /unknown metric "nope"/);
  });

  describe('checked against a run', () => {
    const records = [
      streamedRecord(0, [100, 110], { model: 'qwen2', end_ms: 200 }),
      streamedRecord(0, [300, 320], { model: 'llama3', end_ms: 1600 }),
      syntheticRecord({ model: 'qwen2', ok: false, status: 504, error_type: 'timeout', end_ms: 50 }),
      syntheticRecord({ model: 'qwen2', stream: false, end_ms: 400 }),
    ];
    const analysis = analyze(records, { window: { startMs: 0, stopMs: 2000 }, lateThresholdMs: 10 });
    const check = (text: string) => evaluateSlos([parseSlo(text)], analysis)[0]!;

    it('pass and fail on the measured value', () => {
      assert.equal(check('e2e.p99<1.5s').pass, false);
      assert.equal(check('e2e.p99<1.5s').measured, 1600);
      assert.equal(check('e2e.p50<500ms').pass, true);
      assert.equal(check('e2e.p99[qwen2]<1.5s').pass, true);
      assert.equal(check('errors<1%').pass, false);
      assert.equal(check('errors<30%').measured, 0.25);
      assert.equal(check('errors.timeout<=25%').pass, true);
      assert.equal(check('errors.overloaded<1%').pass, true);
      assert.equal(check('qps>=1').measured, 1.5); // 3 ok over 2 s
      assert.equal(check('tpot.p50<=20ms').pass, true);
    });

    it('fail when there is nothing to measure, saying why', () => {
      const server = check('server_ttft.p99<1s');
      assert.equal(server.pass, false);
      assert.equal(server.measured, null);
      assert.match(server.note!, /no samples/);
      assert.match(check('e2e.p99[mistral]<1s').note!, /no requests for model "mistral"/);
    });

    it('show the measured value in the unit the SLO was written in', () => {
      assert.equal(formatSloValue(1600, 's'), '1.600 s');
      assert.equal(formatSloValue(0.25, '%'), '25.00 %');
      assert.equal(formatSloValue(null, 'ms'), '—');
    });
  });
});
