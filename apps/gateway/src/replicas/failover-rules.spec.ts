import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '#backends';
import { mayFailOver, outlierOutcome } from './failover-rules.js';

const open = () => ({ signal: new AbortController().signal, deadline: Date.now() + 10_000 });

describe('failover rules', () => {
  it('fails over when the replica refused before its first byte: unreachable, 503, overloaded, connect timeout', () => {
    const refusals = [
      new GatewayError('unavailable', 'backend refused the connection (ECONNREFUSED)'),
      new GatewayError('unavailable', 'backend answered 503: loading', { backendStatus: 503 }),
      new GatewayError('overloaded', 'Model is overloaded', { backendStatus: 429 }),
      new GatewayError('overloaded', 'Model is overloaded'), // TGI's event opening a 200 stream
      new GatewayError('timeout', 'backend connect timeout after 1000 ms'),
    ];
    for (const error of refusals) assert.equal(mayFailOver(error, false, open()), true, error.message);
  });

  it('never fails over after the first token, after the client left, near the deadline, or for other errors', () => {
    const refused = new GatewayError('unavailable', 'backend refused the connection (ECONNREFUSED)');
    assert.equal(mayFailOver(refused, true, open()), false);
    const left = new AbortController();
    left.abort(new Error('client disconnected'));
    assert.equal(mayFailOver(refused, false, { signal: left.signal, deadline: Date.now() + 10_000 }), false);
    assert.equal(mayFailOver(refused, false, { ...open(), deadline: Date.now() + 10 }), false);
    const others = [
      new GatewayError('upstream', 'backend closed the stream early'),
      new GatewayError('timeout', 'backend first byte timeout after 800 ms'),
      new GatewayError('validation', 'Input validation error', { backendStatus: 422 }),
      new Error('a bug'),
    ];
    for (const error of others) assert.equal(mayFailOver(error, false, open()), false, error.message);
  });

  it("counts unreachable, mid-call and timed-out calls against the replica, not the client's leaving or its own errors", () => {
    const { signal } = new AbortController();
    assert.equal(outlierOutcome(new GatewayError('upstream', 'cut'), signal), 'failed');
    assert.equal(outlierOutcome(new GatewayError('timeout', 'first byte'), signal), 'failed');
    assert.equal(outlierOutcome(new GatewayError('unavailable', 'refused'), signal), 'failed');
    assert.equal(outlierOutcome(new GatewayError('validation', 'bad'), signal), 'ok');
    assert.equal(outlierOutcome(new GatewayError('overloaded', 'busy', { backendStatus: 429 }), signal), 'ok');
    const left = new AbortController();
    left.abort(new Error('client disconnected'));
    assert.equal(outlierOutcome(new GatewayError('upstream', 'cut'), left.signal), 'cancelled');
  });
});
