import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricsSettingsError, readStatsdSettings } from './metrics-settings.js';

describe('readStatsdSettings', () => {
  it("defaults to 127.0.0.1:8125 with no prefix, so the keys are exactly the guide's", () => {
    assert.deepEqual(readStatsdSettings({}), {
      host: '127.0.0.1',
      port: 8125,
      prefix: '',
      maxBufferBytes: 1400,
      flushIntervalMs: 1000,
    });
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

  it('refuses a bad port or prefix with a message naming the key, the value and the fix', () => {
    assert.throws(
      () => readStatsdSettings({ STATSD_PORT: '70000' }),
      (e: Error) => e instanceof MetricsSettingsError && /STATSD_PORT="70000".*1 to 65535/.test(e.message),
    );
    assert.throws(
      () => readStatsdSettings({ STATSD_PREFIX: 'a b' }),
      (e: Error) => e instanceof MetricsSettingsError && /STATSD_PREFIX="a b"/.test(e.message),
    );
  });
});
