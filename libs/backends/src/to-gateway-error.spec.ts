import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from './gateway-error.js';
import { BackendErrorReply, parseRetryAfter, toGatewayError } from './to-gateway-error.js';

describe('GatewayError', () => {
  it('maps each type to its HTTP status', () => {
    const statuses = Object.fromEntries(
      (['validation', 'model_not_found', 'overloaded', 'unavailable', 'timeout', 'upstream'] as const).map((t) => [
        t,
        new GatewayError(t, 'x').status,
      ]),
    );
    assert.deepEqual(statuses, {
      validation: 422,
      model_not_found: 404,
      overloaded: 429,
      unavailable: 503,
      timeout: 504,
      upstream: 502,
    });
  });

  it('keeps a backend 400 as 400 for validation', () => {
    assert.equal(new GatewayError('validation', 'x', { backendStatus: 400 }).status, 400);
    assert.equal(new GatewayError('upstream', 'x', { backendStatus: 400 }).status, 502);
  });

  it('lets a validation error name a more precise 4xx, and only a validation error', () => {
    assert.equal(new GatewayError('validation', 'x', { status: 413 }).status, 413);
    assert.equal(new GatewayError('validation', 'x', { status: 500 }).status, 422);
    assert.equal(new GatewayError('timeout', 'x', { status: 400 }).status, 504);
  });
});

describe('toGatewayError', () => {
  it('passes a GatewayError through', () => {
    const error = new GatewayError('timeout', 't');
    assert.equal(toGatewayError(error), error);
  });

  it('maps TGI error events inside a 200 stream by error_type', () => {
    const of = (error_type: string) =>
      toGatewayError(new BackendErrorReply(200, { error: `m-${error_type}`, error_type }));
    assert.deepEqual(
      [of('validation').type, of('validation').status, of('validation').message],
      ['validation', 422, 'm-validation'],
    );
    assert.deepEqual([of('overloaded').type, of('overloaded').status], ['overloaded', 429]);
    for (const t of ['generation', 'incomplete_generation', 'something_new']) assert.equal(of(t).type, 'upstream');
  });

  it('maps non-200 answers by status, with Retry-After', () => {
    const of = (status: number, body = '{"error":"boom","error_type":"x"}', retryAfter?: string) =>
      toGatewayError(new BackendErrorReply(status, body, retryAfter));
    assert.equal(of(422).type, 'validation');
    assert.equal(of(400).status, 400);
    const overloaded = of(429, '{"error":"Model is overloaded","error_type":"overloaded"}', '3');
    assert.deepEqual(
      [overloaded.type, overloaded.retryAfterS, overloaded.message, overloaded.backendStatus],
      ['overloaded', 3, 'Model is overloaded', 429],
    );
    assert.deepEqual([of(503, '{"error":"unhealthy"}', '10').type, of(503, '', '10').retryAfterS], ['unavailable', 10]);
    for (const status of [424, 500, 404, 418]) assert.equal(of(status).type, 'upstream', String(status));
    assert.equal(of(500).message, 'backend answered 500: boom');
  });

  it('says so when an error body is not JSON', () => {
    const error = toGatewayError(new BackendErrorReply(502, '<html>Bad Gateway</html>'));
    assert.equal(error.type, 'upstream');
    assert.match(error.message, /not JSON: <html>Bad Gateway/);
  });

  it('maps connection failures to unavailable and anything else to upstream', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    assert.equal(toGatewayError(refused).type, 'unavailable');
    const wrapped = Object.assign(new Error('AxiosError'), {
      code: 'ERR_SOMETHING',
      cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }),
    });
    assert.equal(toGatewayError(wrapped).type, 'unavailable');
    assert.equal(toGatewayError(new Error('weird')).type, 'upstream');
    assert.equal(toGatewayError('a string').type, 'upstream');
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    assert.equal(parseRetryAfter('5'), 5);
    assert.equal(parseRetryAfter(undefined), undefined);
    assert.equal(parseRetryAfter('soon'), undefined);
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    assert.ok(Math.abs(parseRetryAfter(inTenSeconds)! - 10) <= 1);
  });
});
