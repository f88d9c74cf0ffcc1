import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Stop, type StopSignal } from './stop-signal.js';

describe('Stop', () => {
  it('calls its listeners once, in the order they came, with its reason set first', () => {
    const stop = new Stop();
    const calls: string[] = [];
    stop.addEventListener('abort', () => calls.push(`first ${String(stop.reason)}`));
    stop.addEventListener('abort', () => calls.push(`second ${stop.aborted}`));
    stop.abort('gone');
    stop.abort('again');
    assert.deepEqual(calls, ['first gone', 'second true']);
    assert.equal(stop.reason, 'gone');
  });

  it('does not call a listener removed before the abort, nor one added after it', () => {
    const stop = new Stop();
    const calls: string[] = [];
    const removed = () => calls.push('removed');
    stop.addEventListener('abort', removed);
    stop.addEventListener('abort', () => calls.push('kept'));
    stop.removeEventListener('abort', removed);
    stop.removeEventListener('abort', () => calls.push('never added'));
    stop.abort(new Error('stop'));
    stop.addEventListener('abort', () => calls.push('late'));
    assert.deepEqual(calls, ['kept']);
  });

  it('takes the place of an AbortSignal where the request path reads one', () => {
    const signals: StopSignal[] = [new Stop(), new AbortController().signal];
    assert.deepEqual(
      signals.map((signal) => signal.aborted),
      [false, false],
    );
  });
});
