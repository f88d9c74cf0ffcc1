import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorTypeForStatus, GATEWAY_ERROR_TYPES, GatewayError, isGatewayErrorType } from './gateway-error.js';

describe('the error taxonomy', () => {
  it("reads every type's status back to its type, 404 as model_not_found (the only 404 of /v1/generate)", () => {
    assert.deepEqual(
      GATEWAY_ERROR_TYPES.map((type) => [type, new GatewayError(type, 'x').status]),
      [
        ['validation', 422],
        ['model_not_found', 404],
        ['not_found', 404],
        ['overloaded', 429],
        ['unavailable', 503],
        ['timeout', 504],
        ['upstream', 502],
        ['internal', 500],
        ['unauthorized', 401],
        ['forbidden', 403],
        ['rate_limited', 429],
      ],
    );
    for (const type of GATEWAY_ERROR_TYPES) {
      assert.equal(
        errorTypeForStatus(new GatewayError(type, 'x').status),
        type === 'not_found' ? 'model_not_found' : type === 'rate_limited' ? 'overloaded' : type,
      );
      assert.ok(isGatewayErrorType(type));
    }
  });

  it('reads other 4xx as validation, other 5xx as internal, and a success as no type', () => {
    for (const status of [400, 408, 413, 414, 415, 431]) assert.equal(errorTypeForStatus(status), 'validation');
    assert.equal(errorTypeForStatus(501), 'internal');
    assert.equal(errorTypeForStatus(200), undefined);
    assert.equal(isGatewayErrorType('toString'), false);
  });

  it('keeps a precise 4xx only for validation', () => {
    assert.equal(new GatewayError('validation', 'x', { status: 431 }).status, 431);
    assert.equal(new GatewayError('validation', 'x', { backendStatus: 400 }).status, 400);
    assert.equal(new GatewayError('validation', 'x', { status: 503 }).status, 422);
    assert.equal(new GatewayError('timeout', 'x', { status: 408 }).status, 504);
  });
});
