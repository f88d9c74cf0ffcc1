import { setMaxListeners } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GatewayError } from '#backends';

/** How long the answers written when the grace runs out get to reach their clients before the sockets close. */
const FLUSH_MS = 2000;

/**
 * A SIGTERM's drain, seen from the requests: while it lasts every answer says `Connection: close`, so clients open
 * their next connection to another replica; a connection left idle is closed at once, so the server can close; and
 * when the grace runs out, the requests still in flight are cut with the taxonomy's 503 (`unavailable`, with
 * Retry-After), through their own error path (a JSON answer, or a stream's final error event), before the sockets go.
 */
export class ShutdownDrain {
  private readonly cut = new AbortController();
  /** Each answer not yet closed, with its request's connection, in arrival order. */
  private readonly inFlight = new Map<ServerResponse, Socket>();
  private readonly emptied: Array<() => void> = [];
  private draining = false;
  private server?: FastifyInstance['server'];

  constructor() {
    setMaxListeners(0, this.cut.signal); // one listener per request in flight (client-disconnect.ts), by design
  }

  install(fastify: FastifyInstance): void {
    this.server = fastify.server;
    // One listener for every answer (no closure per request); a response closes once.
    const settled = (response: ServerResponse): void => this.settled(response);
    function onResponseClose(this: ServerResponse): void {
      settled(this);
    }
    fastify.addHook('onRequest', (request, reply, done) => {
      const response = reply.raw;
      const socket = request.raw.socket;
      drainSignals.set(request.raw, this.cut.signal);
      if (this.draining) for (const [earlier, on] of this.inFlight) if (on === socket) unmarkLast(earlier);
      this.inFlight.set(response, socket);
      if (this.draining) markLast(response);
      response.on('close', onResponseClose);
      done();
    });
  }

  /** In flight now: answered or not, their sockets still open. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** The drain starts: answers from now on close their connection, and idle connections close now. */
  begin(): void {
    if (this.draining) return;
    this.draining = true;
    for (const response of this.lastOnEachConnection()) markLast(response);
    this.server?.closeIdleConnections();
  }

  /**
   * The grace is over: every request still in flight fails with 503 through its own answer path; resolves once all
   * are answered (or FLUSH_MS has passed), after which the caller may close every socket.
   */
  async cutInFlight(): Promise<void> {
    this.begin();
    if (this.inFlight.size === 0) return;
    this.cut.abort(
      new GatewayError(
        'unavailable',
        'the gateway is shutting down and its grace period ran out: send the request again',
        {
          retryAfterS: 1,
        },
      ),
    );
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, FLUSH_MS);
      this.emptied.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Only the last answer on a connection may close it: a request pipelined behind another (HTTP/1.1) would otherwise
   * lose its answer when the first one's closes the socket.
   */
  private lastOnEachConnection(): Iterable<ServerResponse> {
    const last = new Map<Socket, ServerResponse>();
    for (const [response, socket] of this.inFlight) last.set(socket, response);
    return last.values();
  }

  private settled(response: ServerResponse): void {
    this.inFlight.delete(response);
    if (!this.draining) return;
    // A keep-alive connection whose answer went out before the drain began (a stream) is idle now: close it.
    setImmediate(() => this.server?.closeIdleConnections());
    if (this.inFlight.size === 0) for (const resolve of this.emptied.splice(0)) resolve();
  }
}

const drainSignals = new WeakMap<IncomingMessage, AbortSignal>();

/** Fires when the shutdown's grace runs out with this request still in flight; its reason is the 503 to answer. */
export function drainSignalOf(request: FastifyRequest): AbortSignal | undefined {
  return drainSignals.get(request.raw);
}

/** The answer, once written, closes its connection (Node honours the header and ends the socket after it). */
function markLast(response: ServerResponse): void {
  if (!response.headersSent) response.setHeader('Connection', 'close');
}

function unmarkLast(response: ServerResponse): void {
  if (!response.headersSent) response.removeHeader('Connection');
}
