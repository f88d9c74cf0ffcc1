import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '#backends';
import { deserializeError, serializeError } from './job-messages.js';

describe('job messages', () => {
  it("carry a backend's GatewayError to the client's replica unchanged", () => {
    const sent = new GatewayError('overloaded', 'Model is overloaded', { retryAfterS: 3, backendStatus: 429 });
    const received = deserializeError(
      JSON.parse(JSON.stringify(serializeError(sent))) as ReturnType<typeof serializeError>,
    );
    assert.deepEqual(
      [received.type, received.status, received.message, received.retryAfterS, received.backendStatus],
      ['overloaded', 429, 'Model is overloaded', 3, 429],
    );
  });

  it("report anything else a worker throws as the gateway's own fault (internal 500), not the backend's", () => {
    const received = deserializeError(serializeError(new TypeError('cannot read properties of undefined')));
    assert.deepEqual([received.type, received.status], ['internal', 500]);
    assert.doesNotMatch(received.message, /properties of undefined/, 'internals stay in the log, not in the answer');
  });
});
