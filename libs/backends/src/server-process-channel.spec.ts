import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isServerProcessMessage } from './server-process-channel.js';

describe('isServerProcessMessage', () => {
  it('accepts each message with its field, of any type or of the type asked for', () => {
    assert.equal(isServerProcessMessage({ type: 'listening', url: 'http://127.0.0.1:1' }), true);
    assert.equal(isServerProcessMessage({ type: 'ready', loadMs: 12 }, 'ready'), true);
    assert.equal(isServerProcessMessage({ type: 'failed', reason: 'no such file' }, 'failed'), true);
  });

  it('refuses another type than the one asked for, a missing or mistyped field, and what is not a message', () => {
    assert.equal(isServerProcessMessage({ type: 'ready', loadMs: 12 }, 'listening'), false);
    assert.equal(isServerProcessMessage({ type: 'listening' }), false);
    assert.equal(isServerProcessMessage({ type: 'ready', loadMs: '12' }), false);
    assert.equal(isServerProcessMessage({ type: 'hello' }), false);
    assert.equal(isServerProcessMessage('listening'), false);
    assert.equal(isServerProcessMessage(null), false);
  });
});
