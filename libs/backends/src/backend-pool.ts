import type { Socket } from 'node:net';
import { buildConnector, Client, errors, type Dispatcher } from 'undici';

export interface BackendPoolOptions {
  /** How long an idle keep-alive connection stays open (default 4000). */
  keepAliveIdleMs?: number;
  /** Connections at once at most (default: no bound; the dispatch queue bounds a backend's calls). */
  maxSockets?: number;
}

/**
 * TGI (axum/hyper) and our engine keep an idle connection open for 72 s. We close ours after 4 s by default, well
 * before the backend does, so a request is never written into a connection the backend is closing at that moment
 * (the stale keep-alive bug of many gateways); a backend that announces a shorter one (`Keep-Alive: timeout=N`, as
 * Node servers do) has it honoured by undici, which lets the connection go 2 s before. The race that remains (a
 * backend restart, a proxy in between with a shorter timeout) is covered by the one retry of a reset before the first
 * byte (for an answer that comes only at its end, only a reset right after the write: backend-call.ts).
 */
export const DEFAULT_KEEP_ALIVE_IDLE_MS = 4_000;

/**
 * The keep-alive connections of one backend's generation calls, each an undici Client of one connection: undici's
 * dispatch spares each call the request and response objects, the agent's bookkeeping and the stream machinery of
 * node:http (PERFORMANCE.md, seventh pass). A call takes the connection that went idle last (the warmest; surplus
 * ones idle out after a burst), or a new one; undici's Pool would take the first it made, connected or not, and
 * open a new connection beside an idle one. A connect is bounded by the call's `connect_ms` here (undici's own bound
 * is coarse), which drops the pending connection; every other bound is the call's own timers.
 */
export class BackendPool {
  /** Connections ready for a call, the one that went idle last at the end. */
  private readonly idle: Client[] = [];
  private readonly all = new Set<Client>();
  private readonly connectors = new Map<number, buildConnector.connector>();
  /** Requests that found every connection busy at maxSockets, in their order. */
  private readonly waiting: Waiting[] = [];
  private readonly idleMs: number;
  private readonly maxSockets: number;

  constructor(
    private readonly origin: string,
    options: BackendPoolOptions = {},
  ) {
    this.idleMs = options.keepAliveIdleMs ?? DEFAULT_KEEP_ALIVE_IDLE_MS;
    this.maxSockets = options.maxSockets ?? Infinity;
  }

  /** Sends one request on an idle connection, or a new one; at maxSockets, on the first that goes idle. */
  dispatch(connectMs: number, options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void {
    const client = this.idle.pop() ?? (this.all.size < this.maxSockets ? this.connection(connectMs) : undefined);
    if (client === undefined) return void this.waiting.push({ connectMs, options, handler });
    this.send(client, options, handler);
  }

  /** Whether a call sent now would go on a connection already open. */
  get hasIdleConnection(): boolean {
    return this.idle.length > 0;
  }

  /** Connections open or opening. */
  get connections(): number {
    return this.all.size;
  }

  /** Closes every connection now; calls in flight fail. */
  close(): void {
    for (const client of this.all) void client.destroy().catch(() => undefined);
    this.all.clear();
    this.idle.length = 0;
  }

  private connection(connectMs: number): Client {
    let connect = this.connectors.get(connectMs);
    if (connect === undefined) this.connectors.set(connectMs, (connect = boundedConnector(connectMs)));
    const client = new Client(this.origin, {
      pipelining: 1,
      keepAliveTimeout: this.idleMs,
      keepAliveMaxTimeout: this.idleMs,
      // The call's timers bound the first byte, each gap and the whole call: undici's own bounds are off.
      headersTimeout: 0,
      bodyTimeout: 0,
      connect,
    });
    this.all.add(client);
    const drop = () => this.drop(client);
    client.on('drain', () => this.release(client));
    client.on('disconnect', drop);
    client.on('connectionError', drop);
    return client;
  }

  /** A connection is free again: the first waiting request takes it, else it waits for the next call. */
  private release(client: Client): void {
    if (!this.all.has(client)) return;
    const next = this.waiting.shift();
    if (next === undefined) this.idle.push(client);
    else this.send(client, next.options, next.handler);
  }

  private send(client: Client, options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void {
    // With one request at a time per connection, false means busy until 'drain', which gives it back.
    if (client.dispatch(options, handler)) this.idle.push(client);
  }

  /** A connection that closed is not used again (undici would reconnect it: a new one is made when needed). */
  private drop(client: Client): void {
    if (!this.all.delete(client)) return;
    const at = this.idle.indexOf(client);
    if (at !== -1) this.idle.splice(at, 1);
    void client.close().catch(() => undefined);
    // A request waiting at maxSockets takes the room this one leaves.
    const next = this.waiting.shift();
    if (next !== undefined) this.send(this.connection(next.connectMs), next.options, next.handler);
  }
}

interface Waiting {
  connectMs: number;
  options: Dispatcher.DispatchOptions;
  handler: Dispatcher.DispatchHandler;
}

/** How many bytes a connection had read when it failed, kept with its error (readBeforeFailure). */
const READ_BEFORE_FAILURE = new WeakMap<object, number>();

/**
 * How many bytes the connection had read when it failed with `error`, if known: a connection that read something
 * before an attempt's answer began served earlier answers (it was a reused keep-alive one). undici puts it on its
 * socket errors; the connector below keeps it for the others (a reset).
 */
export function readBeforeFailure(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const socket = (error as { socket?: { bytesRead?: unknown } }).socket;
  if (typeof socket?.bytesRead === 'number') return socket.bytesRead;
  return READ_BEFORE_FAILURE.get(error);
}

/** undici's connector, with an exact bound on the connect, and each connection's errors noted (readBeforeFailure). */
function boundedConnector(connectMs: number): buildConnector.connector {
  const connect = buildConnector({ timeout: 0 });
  return (options, callback) => {
    let pending = true;
    const socket = (connect as unknown as (...args: Parameters<buildConnector.connector>) => Socket)(
      options,
      (error, connected) => {
        if (!pending) return;
        pending = false;
        clearTimeout(timer);
        if (error !== null) return callback(error, null);
        connected.on('error', noteReadBeforeFailure); // before undici's own listeners, so the note is there first
        callback(null, connected);
      },
    );
    const timer = setTimeout(() => {
      if (!pending) return;
      pending = false;
      socket.destroy();
      callback(new errors.ConnectTimeoutError(`connect timeout after ${connectMs} ms`), null);
    }, connectMs);
  };
}

function noteReadBeforeFailure(this: Socket, error: Error): void {
  READ_BEFORE_FAILURE.set(error, this.bytesRead);
}
