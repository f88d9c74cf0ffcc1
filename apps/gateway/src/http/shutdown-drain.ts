import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
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
  /** Why the requests in flight were cut, once the grace ran out: the 503 each of them answers. */
  private cutReason: GatewayError | undefined;
  /**
   * Each answer not yet closed, with its request's connection, in arrival order: a list whose entries ride on their
   * responses, not a Map keyed by them (a Map of responses cost 12 % of the gateway's CPU per request, measured).
   */
  private first: InFlight | undefined;
  private last: InFlight | undefined;
  private count = 0;
  private readonly emptied: Array<() => void> = [];
  private draining = false;
  private server?: FastifyInstance['server'];

  install(fastify: FastifyInstance): void {
    this.server = fastify.server;
    fastify.addHook('onRequest', (request, reply, done) => {
      this.track(request.raw, reply.raw);
      done();
    });
  }

  /** A request in flight until its answer closes: what the drain marks, waits for and cuts (every route's, hot or not). */
  track(request: IncomingMessage, response: ServerResponse): void {
    const socket = request.socket;
    if (this.draining)
      for (const earlier of this.entries()) if (earlier.socket === socket) unmarkLast(earlier.response);
    const entry: InFlight = {
      drain: this,
      response,
      socket,
      onCut: undefined,
      settled: false,
      previous: this.last,
      next: undefined,
    };
    if (this.last === undefined) this.first = entry;
    else this.last.next = entry;
    this.last = entry;
    this.count += 1;
    if (this.draining) markLast(response);
    (response as Tracked)[IN_FLIGHT] = entry;
    response.on('close', onResponseClose);
  }

  /** The 503 of a cut, once the grace has run out. */
  get cutReasonNow(): GatewayError | undefined {
    return this.cutReason;
  }

  /** In flight now: answered or not, their sockets still open. */
  get inFlightCount(): number {
    return this.count;
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
    if (this.count === 0) return;
    this.cutReason = new GatewayError(
      'unavailable',
      'the gateway is shutting down and its grace period ran out: send the request again',
      { retryAfterS: 1 },
    );
    for (const entry of [...this.entries()]) entry.onCut?.(this.cutReason);
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
    for (const { response, socket } of this.entries()) last.set(socket, response);
    return last.values();
  }

  private *entries(): Generator<InFlight> {
    for (let entry = this.first; entry !== undefined; entry = entry.next) yield entry;
  }

  settled(entry: InFlight): void {
    if (entry.settled) return;
    entry.settled = true;
    if (entry.previous === undefined) this.first = entry.next;
    else entry.previous.next = entry.next;
    if (entry.next === undefined) this.last = entry.previous;
    else entry.next.previous = entry.previous;
    entry.previous = entry.next = undefined; // holds no neighbour alive
    this.count -= 1;
    if (!this.draining) return;
    // A keep-alive connection whose answer went out before the drain began (a stream) is idle now: close it.
    setImmediate(() => this.server?.closeIdleConnections());
    if (this.count === 0) for (const resolve of this.emptied.splice(0)) resolve();
  }
}

/**
 * Calls `stop` with the 503 to answer when the shutdown's grace runs out with this request still in flight (at once
 * if it has already run out); returns what forgets it. A property of the response, not a listener on a shared
 * signal: nothing per request grows with the requests in flight.
 */
export function onDrainCut(response: ServerResponse, stop: (reason: Error) => void): () => void {
  const entry = (response as Tracked)[IN_FLIGHT];
  if (entry === undefined) return NOTHING_TO_FORGET;
  const reason = entry.drain.cutReasonNow;
  if (reason !== undefined) {
    stop(reason);
    return NOTHING_TO_FORGET;
  }
  entry.onCut = stop;
  return () => (entry.onCut = undefined);
}

const NOTHING_TO_FORGET = () => undefined;

/** An answer in flight: its place in its drain's list, its connection, and what a cut calls. */
interface InFlight {
  readonly drain: ShutdownDrain;
  readonly response: ServerResponse;
  readonly socket: Socket;
  onCut: ((reason: Error) => void) | undefined;
  settled: boolean;
  previous: InFlight | undefined;
  next: InFlight | undefined;
}

const IN_FLIGHT = Symbol('sluice.inFlight');
type Tracked = ServerResponse & { [IN_FLIGHT]?: InFlight };

/** One listener for every answer (no closure per request): its entry rides on its response. A response closes once. */
function onResponseClose(this: Tracked): void {
  const entry = this[IN_FLIGHT];
  if (entry !== undefined) entry.drain.settled(entry);
}

/** The answer, once written, closes its connection (Node honours the header and ends the socket after it). */
function markLast(response: ServerResponse): void {
  if (!response.headersSent) response.setHeader('Connection', 'close');
}

function unmarkLast(response: ServerResponse): void {
  if (!response.headersSent) response.removeHeader('Connection');
}
