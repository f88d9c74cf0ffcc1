import type { AddressInfo } from 'node:net';

/**
 * The address the server is bound to, as it is: `http://0.0.0.0:8000 (every IPv4 interface)` rather than the
 * `http://127.0.0.1:8000` Nest's getUrl() makes of it, which would hide that the gateway is reachable from outside.
 */
export function describeListeningAddress(address: AddressInfo | string | null): string {
  if (address === null) return 'nowhere (not listening)';
  if (typeof address === 'string') return `unix:${address}`;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  if (address.address === '0.0.0.0') return `${url} (every IPv4 interface)`;
  if (address.address === '::') return `${url} (every interface)`;
  return url;
}
