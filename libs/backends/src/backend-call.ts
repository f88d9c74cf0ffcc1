import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import type { Socket } from 'node:net';
import { GatewayError } from './gateway-error.js';
import type { CallOptions, GenerationOutcome } from './inference-backend.js';
import { BackendErrorReply, errnoCode, toGatewayError } from './to-gateway-error.js';

/** node:http or node:https: what actually opens the backend request. */
export interface NodeTransport {
  request(options: RequestOptions, onResponse: (res: IncomingMessage) => void): ClientRequest;
}

/** What a call needs from its backend and route; built once per backend and route. */
export interface CallTarget {
  readonly transport: NodeTransport;
  /** Everything but the body and its length: host, port, path, method, headers, keep-alive agent. */
  readonly requestOptions: Readonly<RequestOptions>;
}

/**
 * How a 200 answer's body reads: an SSE parser feeding a route's event reader (`sse-call.ts`), or a reader of one
 * JSON answer. One per call; it reports through the call (`eventArrived`, `fail`, `succeed`).
 */
export interface ResponseReader {
  /**
   * The answer's first byte comes only once the generation is done (TGI's `/generate`): the first-byte timeout cannot
   * tell a slow backend from a long generation, so the total bounds the wait, and a reused socket's reset is retried
   * only while it cannot have cut a generation (`STALE_RESET_WINDOW_MS`).
   */
  readonly answersAtEnd?: boolean;
  /** The 200 answer's headers arrived, the call unsettled (a reader that needs them). */
  begin?(response: IncomingMessage): void;
  /** A piece of the body, while the call is unsettled. */
  push(chunk: Buffer): void;
  /** All of the body arrived (the response is complete) with the call still unsettled. */
  end(): void;
}

type TimeoutPhase = 'connect' | 'first byte' | 'inter-token' | 'total';
/** What the call's one timer waits for now. */
type TimerPhase = Exclude<TimeoutPhase, 'connect'>;

/**
 * A backend that closes an idle keep-alive socket as our request crosses it resets the socket within a round trip of
 * the write. A call whose answer says nothing before the generation is done cannot tell that from a backend that took
 * the request and failed while generating, so it is sent again only when its reset came this soon: re-sending then
 * repeats at most this much of a generation; later, it could run the whole generation twice.
 */
export const STALE_RESET_WINDOW_MS = 250;

/** Enough of an error body to explain it; the rest is drained, not kept. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export const CLOSED_EARLY = 'backend closed the stream before the end';

/**
 * One backend generation call, from send to its outcome, whatever the route and the answer's form: timeouts, client
 * abort, the one retry of a stale keep-alive socket, non-200 answers, and the timings of the outcome; what a 200
 * answer's body means is its reader's (a stream of events, or one JSON answer). It is the request path's hottest
 * code, so it speaks node:http directly (axios and its Observable wrapper cost ~20 % of the gateway's CPU per
 * request, measured with `npm run bench -- overhead`); it holds the node ClientRequest, which is how it times the TCP
 * connect, knows whether the socket was a reused keep-alive one, and destroys the request on a timeout or abort —
 * how the backend learns we left and frees the slot. Nothing is allocated per chunk or event here but the parser's
 * strings: the reader is a method call (for a stream, the SSE parser itself), the timers are refreshed.
 */
export class BackendCall {
  private reader!: ResponseReader;
  private resolve!: (outcome: GenerationOutcome) => void;
  private reject!: (error: unknown) => void;
  private settled = false;
  private retried = false;
  private startedAt = 0;
  private firstEventAt = 0;
  private events = 0;
  private backendRequest: ClientRequest | undefined;
  private socketBytesReadAtStart = 0;
  /** performance.now() when the request was given its socket (the write follows at once). */
  private sentAt = 0;
  private response: IncomingMessage | undefined;
  /**
   * One timer for the call's bounds: the first byte, then each inter-token gap, whichever ends first with the total
   * (the total's end, performance.now() time, is `totalAt`). A token event refreshes it while its gap ends first.
   */
  private timer: NodeJS.Timeout | undefined;
  private timerPhase: TimerPhase = 'total';
  private totalAt = 0;
  private connectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly target: CallTarget,
    private readonly body: string,
    readonly options: CallOptions,
  ) {}

  /** Sends the request; a 200 answer's body goes to `reader`. */
  run(reader: ResponseReader): Promise<GenerationOutcome> {
    const { signal, timeouts } = this.options;
    if (signal.aborted) return Promise.reject(signal.reason);
    this.reader = reader;
    return new Promise<GenerationOutcome>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.startedAt = performance.now();
      this.totalAt = this.startedAt + timeouts.totalMs;
      signal.addEventListener('abort', this.onAbort);
      if (reader.answersAtEnd === true) this.arm('total', Infinity, this.startedAt);
      else this.arm('first byte', timeouts.firstByteMs, this.startedAt);
      this.send();
    });
  }

  /** False once the call has its answer (or its failure): a relay may have aborted it. */
  get pending(): boolean {
    return !this.settled;
  }

  /**
   * The reader saw an event that counts as progress: the first one ends the first-byte wait and starts the inter-token
   * one, each later one restarts it. Returns the time it arrived.
   */
  eventArrived(): number {
    const now = performance.now();
    const { interTokenMs } = this.options.timeouts;
    if (this.events++ === 0) {
      this.firstEventAt = now;
      this.arm('inter-token', interTokenMs, now);
    } else if (this.timerPhase === 'inter-token') {
      if (now + interTokenMs < this.totalAt) this.timer!.refresh();
      else this.arm('inter-token', interTokenMs, now); // the total ends first now: the timer waits for it
    }
    return now;
  }

  /** (Re)sets the one timer for `phase`'s `ms` from `now`, or for the end of the total if that comes first. */
  private arm(phase: TimerPhase, ms: number, now: number): void {
    clearTimeout(this.timer);
    const toTotal = this.totalAt - now;
    const total = toTotal <= ms;
    this.timerPhase = total ? 'total' : phase;
    this.timer = setTimeout(expireTimer, Math.max(0, total ? toTotal : ms), this);
  }

  /** Called by the timer. */
  timerFired(): void {
    const { timeouts } = this.options;
    const phase = this.timerPhase;
    this.timeout(
      phase,
      phase === 'total' ? timeouts.totalMs : phase === 'first byte' ? timeouts.firstByteMs : timeouts.interTokenMs,
    );
  }

  /** The outcome's timings, for a final event (or a whole answer) that arrived at `now`. */
  timings(now: number, firstTokenAt = this.firstEventAt): GenerationOutcome['timings'] {
    return { firstTokenMs: firstTokenAt - this.startedAt, backendMs: now - this.startedAt };
  }

  succeed(outcome: GenerationOutcome): void {
    if (this.settled) return;
    this.settle();
    this.resolve(outcome);
  }

  fail(error: unknown): void {
    if (this.settled) return;
    this.settle();
    // Closing the connection is how TGI and our engine learn that nobody waits for the answer any more. A complete
    // answer (a non-200 reply, or a stream read to its end) leaves the socket in the pool.
    if (this.response?.complete !== true) this.backendRequest?.destroy();
    this.reject(error);
  }

  /**
   * Parses an event's data as a JSON object; an event that is not one fails the call (and returns undefined). Backends
   * send error events of their own shape in the same stream: the caller looks for them.
   */
  parseObject(data: string): Record<string, unknown> | undefined {
    let event: unknown;
    try {
      event = JSON.parse(data);
    } catch {
      this.fail(new GatewayError('upstream', `backend sent an event that is not JSON: ${data.slice(0, 200)}`));
      return undefined;
    }
    if (typeof event === 'object' && event !== null) return event as Record<string, unknown>;
    this.fail(new GatewayError('upstream', `backend sent an event that is not a JSON object: ${data.slice(0, 200)}`));
    return undefined;
  }

  /** An error event inside the 200 stream (TGI's `{error, error_type}`, or OpenAI's `{error: {message, ...}}`). */
  failWithErrorEvent(event: object): void {
    this.fail(toGatewayError(new BackendErrorReply(200, event)));
  }

  private send(): void {
    const req = this.target.transport.request(this.target.requestOptions, this.onResponse);
    this.backendRequest = req;
    req.once('socket', this.onSocket);
    req.on('error', this.onRequestError);
    req.setHeader('content-length', Buffer.byteLength(this.body));
    req.end(this.body);
  }

  private readonly onSocket = (socket: Socket): void => {
    this.socketBytesReadAtStart = socket.bytesRead;
    this.sentAt = performance.now();
    if (!socket.connecting) return; // a reused keep-alive socket
    const { connectMs } = this.options.timeouts;
    clearTimeout(this.connectTimer); // a retry's new socket
    this.connectTimer = setTimeout(expireUnlessConnected, connectMs, this, socket, connectMs);
  };

  private readonly onResponse = (res: IncomingMessage): void => {
    if (this.settled) {
      res.destroy();
      return;
    }
    this.response = res;
    if (res.statusCode === 200) {
      this.reader.begin?.(res);
      res.on('data', this.onStreamData);
      res.on('end', this.onStreamEnd);
      res.on('close', this.onStreamClose);
      res.on('error', this.onStreamError);
    } else {
      this.readErrorBody(res, res.statusCode ?? 0);
    }
  };

  /** The request failed; before any response that means nothing was generated (after one, the response's own handlers decide). */
  private readonly onRequestError = (error: unknown): void => {
    if (this.settled || this.response !== undefined) return;
    if (!this.retried && this.isStaleKeepAliveReset(error)) {
      this.retried = true;
      return this.send();
    }
    // A one-answer call says nothing until its generation is done: a backend that drops the connection after taking
    // the request failed during the generation, as a stream closed early does.
    const code = errnoCode(error);
    if (
      this.reader.answersAtEnd === true &&
      this.options.oneAnswer === true &&
      this.backendRequest?.writableFinished &&
      (code === 'ECONNRESET' || code === 'EPIPE')
    )
      return this.fail(
        new GatewayError('upstream', 'backend closed the connection before its answer', { cause: error }),
      );
    this.fail(toGatewayError(error));
  };

  /**
   * A backend may close an idle keep-alive socket just as we write a request into it; the request never reached
   * it, so sending it again on a new socket is safe. Only then: not on a new socket, not after any answer byte, and
   * for an answer that comes only at the end, not after the backend could have been generating it.
   */
  private isStaleKeepAliveReset(error: unknown): boolean {
    const req = this.backendRequest;
    if (req?.reusedSocket !== true) return false;
    const code = errnoCode(error);
    if (code !== 'ECONNRESET' && code !== 'EPIPE') return false;
    if (this.reader.answersAtEnd === true && performance.now() - this.sentAt > STALE_RESET_WINDOW_MS) return false;
    return (req.socket?.bytesRead ?? this.socketBytesReadAtStart) === this.socketBytesReadAtStart;
  }

  private readonly onStreamData = (chunk: Buffer): void => {
    if (!this.settled) this.reader.push(chunk);
  };

  /** All of the response arrived: whether that is a complete answer is the protocol's to say. */
  private readonly onStreamEnd = (): void => {
    if (this.settled) return;
    if (this.response?.complete === true) this.reader.end();
    else this.fail(new GatewayError('upstream', CLOSED_EARLY));
  };

  private readonly onStreamClose = (): void => {
    if (!this.settled) this.fail(new GatewayError('upstream', CLOSED_EARLY));
  };

  private readonly onStreamError = (error: unknown): void => {
    if (!this.settled) this.fail(new GatewayError('upstream', CLOSED_EARLY, { cause: error }));
  };

  /** A non-200 answer maps by its status, with whatever part of the body arrived (the error path: closures are fine). */
  private readErrorBody(res: IncomingMessage, status: number): void {
    const chunks: Buffer[] = [];
    let bytes = 0;
    res.on('data', (chunk: Buffer) => {
      if (bytes >= MAX_ERROR_BODY_BYTES) return;
      chunks.push(chunk);
      bytes += chunk.length;
    });
    const done = () => {
      if (this.settled) return;
      const text = Buffer.concat(chunks).toString('utf8').slice(0, MAX_ERROR_BODY_BYTES);
      this.fail(toGatewayError(new BackendErrorReply(status, text, res.headers['retry-after'])));
    };
    res.on('end', done);
    res.on('close', done);
    res.on('error', done);
  }

  private readonly onAbort = (): void => this.fail(this.options.signal.reason);

  /** Called by the timers below. */
  timeout(phase: TimeoutPhase, ms: number): void {
    this.fail(new GatewayError('timeout', `backend ${phase} timeout after ${ms} ms`));
  }

  private settle(): void {
    this.settled = true;
    clearTimeout(this.timer);
    clearTimeout(this.connectTimer);
    this.options.signal.removeEventListener('abort', this.onAbort);
  }
}

/** Timer callbacks get the call as an argument: no closure per request. */
function expireTimer(call: BackendCall): void {
  call.timerFired();
}

/** The connect timer is not cancelled on connect (no listener per socket): it checks when it fires. */
function expireUnlessConnected(call: BackendCall, socket: Socket, ms: number): void {
  if (socket.connecting) call.timeout('connect', ms);
}
