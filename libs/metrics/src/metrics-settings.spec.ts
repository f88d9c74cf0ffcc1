import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricsSettingsError, readStatsdSettings } from './metrics-settings.js';

describe('readStatsdSettings', () => {
  it("defaults to 127.0.0.1:8125 with no prefix, so the keys are exactly the guide's", () => {
    assert.deepEqual(readStatsdSettings({}), {
      host: '127.0.0.1',
      port: 8125,
      prefix: '',
      maxBufferBytes: 8192,
      flushIntervalMs: 1000,
    });
  });

  it('fills datagrams to 8 KiB for a daemon on this host and to 1400 bytes for one across a network, or as told', () => {
    for (const host of ['127.0.0.1', '127.0.0.53', 'localhost', '::1'])
      assert.equal(readStatsdSettings({ STATSD_HOST: host })?.maxBufferBytes, 8192, host);
    for (const host of ['statsd', '10.0.0.7', 'statsd.monitoring.svc', '::ffff:10.0.0.7'])
      assert.equal(readStatsdSettings({ STATSD_HOST: host })?.maxBufferBytes, 1400, host);
    assert.equal(
      readStatsdSettings({ STATSD_HOST: 'statsd', STATSD_MAX_DATAGRAM_BYTES: '8932' })?.maxBufferBytes,
      8932,
    );
    assert.equal(readStatsdSettings({ STATSD_MAX_DATAGRAM_BYTES: '512' })?.maxBufferBytes, 512);
  });

  it('reads STATSD_HOST, STATSD_PORT and STATSD_PREFIX', () => {
    const settings = readStatsdSettings({ STATSD_HOST: 'statsd', STATSD_PORT: '9125', STATSD_PREFIX: 'prod.sluice' });
    assert.equal(settings?.host, 'statsd');
    assert.equal(settings?.port, 9125);
    assert.equal(settings?.prefix, 'prod.sluice');
  });

  it('sends nothing with STATSD_HOST=off', () => {
    assert.equal(readStatsdSettings({ STATSD_HOST: 'off' }), null);
  });

  it('refuses a bad port, prefix or datagram size with a message naming the key, the value and the fix', () => {
    assert.throws(
      () => readStatsdSettings({ STATSD_PORT: '70000' }),
      (e: Error) => e instanceof MetricsSettingsError && /STATSD_PORT="70000".*1 to 65535/.test(e.message),
    );
    assert.throws(
      () => readStatsdSettings({ STATSD_PREFIX: 'a b' }),
      (e: Error) => e instanceof MetricsSettingsError && /STATSD_PREFIX="a b"/.test(e.message),
    );
    for (const bad of ['100', '70000', '1400.5', 'big'])
      assert.throws(
        () => readStatsdSettings({ STATSD_MAX_DATAGRAM_BYTES: bad }),
        (e: Error) =>
          e instanceof MetricsSettingsError &&
          e.message.includes(`STATSD_MAX_DATAGRAM_BYTES="${bad}"`) &&
          /512 to 65507/.test(e.message),
      );
  });
});
