import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BackendErrorReply, toGatewayError } from './to-gateway-error.js';

const mapped = (status: number, body: unknown, retryAfter?: string) => {
  const error = toGatewayError(
    new BackendErrorReply(status, status === 200 ? (body as object) : JSON.stringify(body), retryAfter),
  );
  return [error.type, error.status, error.message, error.retryAfterS];
};

describe("toGatewayError: OpenAI-protocol servers' error bodies", () => {
  it("reads vLLM's ErrorResponse, current (nested) and before 0.10 (top level, object: error)", () => {
    const info = { message: 'max_tokens must be at least 1, got 0.', type: 'BadRequestError', param: null, code: 400 };
    assert.deepEqual(mapped(400, { error: info }), ['validation', 400, info.message, undefined]);
    assert.deepEqual(mapped(400, { object: 'error', ...info }), ['validation', 400, info.message, undefined]);
    assert.deepEqual(
      mapped(404, { object: 'error', message: 'The model `x` does not exist.', type: 'NotFoundError', code: 404 }),
      ['upstream', 502, 'backend answered 404: The model `x` does not exist.', undefined],
    );
  });

  it("reads llama-server's errors: 503 while loading is unavailable, its 400 validation", () => {
    assert.deepEqual(mapped(503, { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } }), [
      'unavailable',
      503,
      'backend answered 503: Loading model',
      undefined,
    ]);
    const tooLong = {
      code: 400,
      message: 'the request exceeds the available context size',
      type: 'exceed_context_size_error',
    };
    assert.deepEqual(mapped(400, { error: tooLong }), ['validation', 400, tooLong.message, undefined]);
  });

  it('reads a 429 as overloaded with its Retry-After, and an error event in a stream by its type', () => {
    const limited = { error: { message: 'Too many requests', type: 'rate_limit_error', param: null, code: 429 } };
    assert.deepEqual(mapped(429, limited, '7'), ['overloaded', 429, 'Too many requests', 7]);
    const midStream = { error: { message: 'CUDA error', type: 'InternalServerError', param: null, code: 500 } };
    assert.deepEqual(mapped(200, midStream), ['upstream', 502, 'CUDA error', undefined]);
  });
});
