import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A scripted plain HTTP error, as the server itself or a proxy in front of it sends it. */
export interface ScriptedHttpError {
  status: number;
  body?: string | Record<string, unknown>;
  headers?: Record<string, string>;
}

/**
 * A loopback address (127.0.0.2 and the rest of 127/8 are as local as 127.0.0.1 on Linux: several stand-ins may share
 * a port, as pods behind one DNS name do) and a port; 0 for a free one.
 */
export interface StandInAddress {
  host?: string;
  port?: number;
}

/**
 * The HTTP side every stand-in shares: a node:http server on 127.0.0.1 that counts connections and the requests on
 * each, scripted delays that close() clears (so that a closed stand-in leaves nothing to keep the process alive),
 * waiters for a client's disconnect, and binding at once or late (TGI and vLLM take their port only once loaded).
 */
export class StandInServer {
  private readonly server: http.Server;
  private readonly requestsPerSocket = new WeakMap<Socket, number>();
  private readonly disconnectWaiters: Array<() => void> = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly host: string;
  private port: number;

  constructor(
    handler: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>,
    keepAliveTimeoutMs: number,
    onConnection: () => void,
    /** Where to listen: by default 127.0.0.1 on a free port. */
    at: StandInAddress = {},
  ) {
    this.host = at.host ?? '127.0.0.1';
    this.port = at.port ?? 0;
    this.server = http.createServer((req, res) => void handler(req, res));
    this.server.keepAliveTimeout = keepAliveTimeoutMs;
    this.server.on('connection', (socket: Socket) => {
      onConnection();
      this.requestsPerSocket.set(socket, 0);
    });
  }

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  get listening(): boolean {
    return this.server.listening;
  }

  /** Binds now, or (`late`) only finds a free port now and takes it in listen(). */
  async bind(late: boolean): Promise<void> {
    if (!late) {
      await this.listen();
      return;
    }
    if (this.port !== 0) return;
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, this.host, resolve));
    this.port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.host, () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  /** Counts the request on its socket; true when an earlier request came on the same connection. */
  arrivedOnReusedConnection(req: http.IncomingMessage): boolean {
    const onSocket = (this.requestsPerSocket.get(req.socket) ?? 0) + 1;
    this.requestsPerSocket.set(req.socket, onSocket);
    return onSocket > 1;
  }

  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  nextDisconnect(): Promise<void> {
    return new Promise<void>((resolve) => this.disconnectWaiters.push(resolve));
  }

  /** A client left before its answer ended: wakes everyone waiting in nextDisconnect(). */
  disconnected(): void {
    for (const resolve of this.disconnectWaiters.splice(0)) resolve();
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Sends a scripted HTTP error: a string body as text, an object (or `fallbackBody` when none) as JSON. */
export function sendScriptedError(res: http.ServerResponse, error: ScriptedHttpError, fallbackBody: object): void {
  const { status, body, headers } = error;
  const payload = typeof body === 'string' ? body : JSON.stringify(body ?? fallbackBody);
  const type = typeof body === 'string' ? 'text/plain' : 'application/json';
  res.writeHead(status, { 'content-type': type, ...headers }).end(payload);
}

export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}
