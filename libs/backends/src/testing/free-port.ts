import dgram from 'node:dgram';
import net from 'node:net';

/**
 * TEST HELPERS: a port that was free a moment ago. Another process can take it before our server binds it, so a
 * caller that starts a server on it retries with a new one when the server fails to bind.
 */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A UDP port that was free a moment ago (TCP and UDP ports are separate namespaces). */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}
