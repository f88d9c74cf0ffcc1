import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lookupAll } from './host-resolver.js';

/** The system's resolver, as discovery uses it: /etc/hosts answers here as a cluster's DNS answers in a pod. */
describe('lookupAll (the system resolver, every address)', () => {
  it('gives every address of a name, from /etc/hosts as from DNS', async () => {
    const addresses = await lookupAll('localhost');
    assert.ok(addresses.includes('127.0.0.1'), addresses.join(', '));
    assert.equal(new Set(addresses).size, addresses.length, 'no address twice');
  });

  it('gives none for a name that does not exist (NXDOMAIN: no pod ready), rather than failing', async () => {
    assert.deepEqual(await lookupAll('no-such-replica.invalid'), []);
  });
});
