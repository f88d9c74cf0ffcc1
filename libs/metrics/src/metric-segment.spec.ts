import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metricSegment } from './metric-segment.js';
import { STATSD_KEYS } from './statsd-keys.js';

describe('metricSegment', () => {
  it('keeps ids made of [A-Za-z0-9_-] as they are', () => {
    assert.equal(metricSegment('qwen2'), 'qwen2');
    assert.equal(metricSegment('Llama-3_1'), 'Llama-3_1');
  });

  it('turns dots, slashes, colons, pipes, spaces and non-ASCII into _ so a model id is always one key segment', () => {
    assert.equal(metricSegment('Qwen/Qwen2.5-7B:int4|x y'), 'Qwen_Qwen2_5-7B_int4_x_y');
    assert.equal(metricSegment('模型'), '__');
    assert.equal(metricSegment(''), '_');
  });

  it("builds the performance guide's keys exactly", () => {
    assert.equal(STATSD_KEYS.requestsTotal, 'requests.total');
    assert.equal(STATSD_KEYS.requestsForModel('qwen2'), 'requests.model.qwen2');
    assert.equal(STATSD_KEYS.inputTokens('qwen2'), 'requests.model.qwen2.input_tokens');
    assert.equal(STATSD_KEYS.outputTokens('llama3'), 'requests.model.llama3.output_tokens');
    assert.equal(STATSD_KEYS.requestLatency, 'request.latency');
    assert.equal(STATSD_KEYS.timeoutErrors, 'requests.errors.timeout');
    assert.equal(STATSD_KEYS.errors('timeout'), STATSD_KEYS.timeoutErrors);
  });
});
