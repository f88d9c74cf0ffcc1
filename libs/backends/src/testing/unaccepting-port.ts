import net from 'node:net';
import { Worker } from 'node:worker_threads';

/**
 * A TEST HELPER: a local port whose TCP connects never complete, for connect-timeout tests without a network.
 * A worker thread listens with a backlog of 1 and then blocks its event loop, so it never accepts; once the kernel's
 * accept queue is full (filled here), further SYNs are dropped and a client's connect stays pending.
 */
export interface UnacceptingPort {
  readonly url: string;
  close(): Promise<void>;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const server = net.createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  parentPort.postMessage(server.address().port);
  Atomics.wait(workerData, 0, 0); // blocks this thread's event loop until close(): nothing is accepted
});
`;

export async function startUnacceptingPort(): Promise<UnacceptingPort> {
  const release = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: release });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const fillers: net.Socket[] = [];
  // Fill the accept queue until a connect stays pending.
  for (let i = 0; i < 16; i++) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    fillers.push(socket);
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 150);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!connected) break;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of fillers) socket.destroy();
      Atomics.store(release, 0, 1);
      Atomics.notify(release, 0);
      await worker.terminate();
    },
  };
}
