import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeListeningAddress } from './listening-address.js';

describe('describeListeningAddress', () => {
  it('says when the gateway listens on every interface instead of showing a loopback URL', () => {
    assert.equal(
      describeListeningAddress({ address: '0.0.0.0', family: 'IPv4', port: 8000 }),
      'http://0.0.0.0:8000 (every IPv4 interface)',
    );
    assert.equal(
      describeListeningAddress({ address: '::', family: 'IPv6', port: 8000 }),
      'http://[::]:8000 (every interface)',
    );
  });

  it('gives a specific address as it is', () => {
    assert.equal(
      describeListeningAddress({ address: '127.0.0.1', family: 'IPv4', port: 8123 }),
      'http://127.0.0.1:8123',
    );
    assert.equal(describeListeningAddress({ address: '::1', family: 'IPv6', port: 8123 }), 'http://[::1]:8123');
    assert.equal(describeListeningAddress(null), 'nowhere (not listening)');
  });
});
