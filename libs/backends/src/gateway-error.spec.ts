import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorTypeForStatus, GatewayError, isGatewayErrorType } from './gateway-error.js';

describe('the error taxonomy', () => {
  it("reads every type's status back to its type", () => {
    for (const type of ['validation', 'model_not_found', 'overloaded', 'unavailable', 'timeout', 'upstream'] as const) {
      assert.equal(errorTypeForStatus(new GatewayError(type, 'x').status), type);
      assert.ok(isGatewayErrorType(type));
    }
  });

  it('reads other 4xx as validation, and a success or an unknown 5xx as no type', () => {
    assert.equal(errorTypeForStatus(400), 'validation');
    assert.equal(errorTypeForStatus(413), 'validation');
    assert.equal(errorTypeForStatus(415), 'validation');
    assert.equal(errorTypeForStatus(200), undefined);
    assert.equal(errorTypeForStatus(500), undefined);
    assert.equal(isGatewayErrorType('not_found'), false);
    assert.equal(isGatewayErrorType('toString'), false);
  });
});
