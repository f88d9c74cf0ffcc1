import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayConfigError, listenHost, readGatewayConfig } from './gateway-config.js';

const host = (env: NodeJS.ProcessEnv, hasKeys: boolean) => listenHost(readGatewayConfig(env), hasKeys);

describe('where the gateway listens (listenHost)', () => {
  it('without keys: 127.0.0.1 by default, and only a loopback address if HOST is set', () => {
    assert.equal(host({}, false), '127.0.0.1');
    assert.equal(host({ HOST: '' }, false), '127.0.0.1');
    for (const loopback of ['127.0.0.1', '::1', 'localhost']) assert.equal(host({ HOST: loopback }, false), loopback);
    for (const open of ['0.0.0.0', '::', '10.1.2.3'])
      assert.throws(
        () => host({ HOST: open }, false),
        (error: Error) =>
          error instanceof GatewayConfigError &&
          error.message.includes(`HOST=${open}`) &&
          /API_KEYS_FILE/.test(error.message) &&
          /AUTH=off/.test(error.message),
      );
  });

  it('with keys: every interface by default, or the HOST given', () => {
    assert.equal(host({}, true), '0.0.0.0');
    assert.equal(host({ HOST: '10.1.2.3' }, true), '10.1.2.3');
    assert.equal(host({ HOST: '127.0.0.1' }, true), '127.0.0.1');
  });

  it('AUTH=off: open on any interface, knowingly', () => {
    assert.equal(host({ AUTH: 'off' }, false), '0.0.0.0');
    assert.equal(host({ AUTH: 'off', HOST: '0.0.0.0' }, false), '0.0.0.0');
    assert.throws(() => readGatewayConfig({ AUTH: 'no' }), /AUTH="no" is not valid: use on or off/);
  });
});

describe('key settings', () => {
  it('API_KEYS_REDIS=on needs REDIS_URL; the cache period is bounded', () => {
    assert.throws(() => readGatewayConfig({ API_KEYS_REDIS: 'on' }), /API_KEYS_REDIS=on needs REDIS_URL/);
    const config = readGatewayConfig({ API_KEYS_REDIS: 'on', REDIS_URL: 'redis://127.0.0.1:6379' });
    assert.equal(config.apiKeysRedis, true);
    assert.equal(config.apiKeysCacheMs, 5000);
    assert.equal(readGatewayConfig({}).apiKeysRedis, false);
    assert.throws(() => readGatewayConfig({ API_KEYS_CACHE_MS: '600000' }), /API_KEYS_CACHE_MS="600000"/);
  });

  it('METRICS_TOKEN: unset is an open /metrics; a short or spaced token is refused at start', () => {
    assert.equal(readGatewayConfig({}).metricsToken, undefined);
    assert.equal(readGatewayConfig({ METRICS_TOKEN: 'a'.repeat(16) }).metricsToken, 'a'.repeat(16));
    for (const weak of ['short', 'has a space in it, long enough'])
      assert.throws(() => readGatewayConfig({ METRICS_TOKEN: weak }), /METRICS_TOKEN is not valid/);
  });
});

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

describe('engine supervision settings', () => {
  it('have defaults that replace a hung engine within seconds and retry a failed file every 10 s', () => {
    const config = readGatewayConfig({});
    assert.equal(config.healthTimeoutMs, 1000);
    assert.equal(config.engineWatchdogFailures, 5);
    assert.equal(config.engineKillGraceMs, 2000);
    assert.equal(config.modelFileRetryMs, 10_000);
  });

  it('take 0 for no watchdog, and refuse values out of range naming the key', () => {
    assert.equal(readGatewayConfig({ ENGINE_WATCHDOG_FAILURES: '0' }).engineWatchdogFailures, 0);
    assert.throws(() => readGatewayConfig({ HEALTH_TIMEOUT_MS: '10' }), /HEALTH_TIMEOUT_MS="10" is not valid/);
    assert.throws(() => readGatewayConfig({ MODEL_FILE_RETRY_MS: 'soon' }), /MODEL_FILE_RETRY_MS="soon" is not valid/);
    assert.throws(() => readGatewayConfig({ ENGINE_KILL_GRACE_MS: '-1' }), /ENGINE_KILL_GRACE_MS="-1" is not valid/);
  });
});
