import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayConfigError, readGatewayConfig } from './gateway-config.js';

describe('readGatewayConfig: how long a client may take to send a request', () => {
  it('defaults to 10 s for the headers and 30 s for the whole request', () => {
    const config = readGatewayConfig({});
    assert.equal(config.headersTimeoutMs, 10_000);
    assert.equal(config.requestTimeoutMs, 30_000);
  });

  it('takes both from the environment; a shorter request timeout shortens the headers default with it', () => {
    assert.deepEqual(
      pick(readGatewayConfig({ REQUEST_TIMEOUT_MS: '60000', HEADERS_TIMEOUT_MS: '20000' })),
      [20_000, 60_000],
    );
    assert.deepEqual(pick(readGatewayConfig({ REQUEST_TIMEOUT_MS: '5000' })), [5000, 5000]);
  });

  it('refuses headers that may take longer than the whole request, and values out of range, naming the fix', () => {
    assert.throws(
      () => readGatewayConfig({ REQUEST_TIMEOUT_MS: '5000', HEADERS_TIMEOUT_MS: '6000' }),
      (error: Error) =>
        error instanceof GatewayConfigError &&
        /HEADERS_TIMEOUT_MS="6000" is not valid: it must not exceed REQUEST_TIMEOUT_MS \(5000\)/.test(error.message),
    );
    assert.throws(
      () => readGatewayConfig({ REQUEST_TIMEOUT_MS: '0' }),
      /REQUEST_TIMEOUT_MS="0" is not valid: use an integer from 1000/,
    );
  });
});

const pick = (config: { headersTimeoutMs: number; requestTimeoutMs: number }) => [
  config.headersTimeoutMs,
  config.requestTimeoutMs,
];
