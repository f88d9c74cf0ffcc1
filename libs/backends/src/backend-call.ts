import type { Dispatcher } from 'undici';
import { readBeforeFailure, type BackendPool } from './backend-pool.js';
import { ResponseHeaders } from './response-headers.js';
import { GatewayError } from './gateway-error.js';
import type { CallOptions, GenerationOutcome } from './inference-backend.js';
import { BackendErrorReply, errnoCode, toGatewayError } from './to-gateway-error.js';

/** What a call needs from its backend and route; built once per backend and route. */
export interface CallTarget {
  readonly pool: BackendPool;
  readonly path: string;
  /** Every header but the body's length (undici adds it, and `host`), as name, value, name, value... */
  readonly headers: readonly string[];
}

/** A route's target: a JSON body to `path`, answered in `accept`, with any `extraHeaders` (name, value, ...). */
export function callTarget(
  pool: BackendPool,
  path: string,
  accept: string,
  extraHeaders: readonly string[] = [],
): CallTarget {
  const headers = ['content-type', 'application/json', 'accept', accept, 'accept-encoding', 'identity'];
  return { pool, path, headers: Object.freeze([...headers, ...extraHeaders]) };
}

/** How a connection cut shows: node's reset or broken pipe, undici's `other side closed`. */
function isConnectionCut(code: string | undefined): boolean {
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET';
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
  begin?(headers: ResponseHeaders): void;
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
 * abort, the one retry of a stale keep-alive connection, non-200 answers, and the timings of the outcome; what a 200
 * answer's body means is its reader's (a stream of events, or one JSON answer). It is the request path's hottest
 * code, so it is undici's dispatch handler itself (axios and its Observable wrapper cost ~20 % of the gateway's CPU
 * per request, node:http's client 7–15 % more than undici: PERFORMANCE.md). Its pool bounds the TCP connect
 * (backend-pool.ts); the call holds the attempt's abort, which is how it closes the connection on a timeout or
 * abort — how the backend learns we left and frees the slot. Nothing is allocated per chunk or event here but the
 * parser's strings: the reader is a method call (for a stream, the SSE parser itself), the timers are refreshed.
 *
 * It is a handler of the form undici's client calls (`onConnect`, `onHeaders`, `onData`, `onComplete`, `onError`),
 * as undici's own `request()` and `stream()` are in the pinned version: a handler of the newer form is wrapped per
 * request, and every answer's headers turned into an object, which cost 2–3 % of the gateway's CPU per request.
 * The headers stay undici's raw list here; a reader or an error answer reads the one it needs (ResponseHeaders).
 */
export class BackendCall implements Dispatcher.DispatchHandler {
  private reader!: ResponseReader;
  private resolve!: (outcome: GenerationOutcome) => void;
  private reject!: (error: unknown) => void;
  private settled = false;
  private retried = false;
  private startedAt = 0;
  private firstEventAt = 0;
  private events = 0;
  /** Aborts the attempt's dispatch, once undici put it on a connection: that closes the connection. */
  private abortAttempt: ((reason: Error) => void) | undefined;
  /** performance.now() when the attempt was put on its connection (the write follows at once). */
  private sentAt = 0;
  /** The attempt's answer status, once its headers arrived (0 before). */
  private status = 0;
  private responseComplete = false;
  private errorBody: { chunks: Buffer[]; bytes: number; retryAfter: string | undefined } | undefined;
  /**
   * One timer for the call's bounds: the first byte, then each inter-token gap, whichever ends first with the total
   * (the total's end, performance.now() time, is `totalAt`). A token event refreshes it while its gap ends first.
   */
  private timer: NodeJS.Timeout | undefined;
  private timerPhase: TimerPhase = 'total';
  private totalAt = 0;

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
      // undici gives a connection back to the pool on an immediate once the answer on it is over: with none idle
      // now, the call waits for that turn, or a caller's next call right after its last would open a new connection.
      if (this.target.pool.hasIdleConnection) this.send();
      else setImmediate(sendUnlessSettled, this);
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
    // answer (a non-200 reply, or a stream read to its end) leaves the connection in the pool. An attempt not yet on
    // a connection is aborted as it gets one (onConnect).
    if (!this.responseComplete) this.abortAttempt?.(CALL_SETTLED);
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

  /** The first attempt, unless the call ended (a timeout, the client's abort) before it could go. */
  sendUnlessSettled(): void {
    if (!this.settled) this.send();
  }

  /** One attempt: the call is its own dispatch handler (no closure per request). */
  private send(): void {
    this.abortAttempt = undefined;
    this.status = 0;
    this.errorBody = undefined;
    const { pool, path, headers } = this.target;
    try {
      pool.dispatch(
        this.options.timeouts.connectMs,
        { path, method: 'POST', headers: headers as string[], body: this.body },
        this,
      );
    } catch (error) {
      this.onError(error as Error);
    }
  }

  /** undici put the attempt on a connection and writes it now. */
  onConnect(abort: (reason: Error) => void): void {
    this.abortAttempt = abort;
    if (this.settled) return abort(CALL_SETTLED);
    this.sentAt = performance.now();
  }

  /** The answer's status and headers (undici's raw list: name, value, ...); true reads on. */
  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (this.settled) {
      this.abortAttempt?.(CALL_SETTLED);
      return false;
    }
    this.status = statusCode;
    // Looked up only where something reads a header: a stream's reader reads none.
    if (statusCode !== 200)
      this.errorBody = { chunks: [], bytes: 0, retryAfter: new ResponseHeaders(rawHeaders).get('retry-after') };
    else if (this.reader.begin !== undefined) this.reader.begin(new ResponseHeaders(rawHeaders));
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.settled) return true;
    const { errorBody } = this;
    if (errorBody === undefined) {
      this.reader.push(chunk);
      return true;
    }
    // A non-200 answer maps by its status, with enough of its body to explain it; the rest is drained, not kept.
    if (errorBody.bytes >= MAX_ERROR_BODY_BYTES) return true;
    errorBody.chunks.push(chunk);
    errorBody.bytes += chunk.length;
    return true;
  }

  /** All of the response arrived: whether that is a complete answer is the protocol's to say. */
  onComplete(): void {
    this.responseComplete = true;
    if (this.settled) return;
    if (this.errorBody === undefined) this.reader.end();
    else this.failWithErrorBody();
  }

  /** The attempt failed: before its answer that means nothing was generated; after, the answer was cut. */
  onError(error: Error): void {
    if (this.settled) return;
    if (this.errorBody !== undefined) return this.failWithErrorBody();
    if (this.status !== 0) return this.fail(new GatewayError('upstream', CLOSED_EARLY, { cause: error }));
    if (!this.retried && this.isStaleKeepAliveReset(error)) {
      this.retried = true;
      return this.send();
    }
    const code = errnoCode(error);
    if (code === 'UND_ERR_CONNECT_TIMEOUT') return this.timeout('connect', this.options.timeouts.connectMs);
    // A one-answer call says nothing until its generation is done: a backend that drops the connection after taking
    // the request failed during the generation, as a stream closed early does.
    if (
      this.reader.answersAtEnd === true &&
      this.options.oneAnswer === true &&
      this.abortAttempt !== undefined &&
      isConnectionCut(code)
    )
      return this.fail(
        new GatewayError('upstream', 'backend closed the connection before its answer', { cause: error }),
      );
    this.fail(toGatewayError(error));
  }

  /**
   * A backend may close an idle keep-alive connection just as we write a request into it; the request never reached
   * it, so sending it again on a new connection is safe. Only then: not on a new connection (one that had read nothing
   * before this attempt's answer, which had not begun), not after any answer, and for an answer that comes only at the
   * end, not after the backend could have been generating it.
   */
  private isStaleKeepAliveReset(error: unknown): boolean {
    if (!((readBeforeFailure(error) ?? 0) > 0) || !isConnectionCut(errnoCode(error))) return false;
    return !(this.reader.answersAtEnd === true && performance.now() - this.sentAt > STALE_RESET_WINDOW_MS);
  }

  private failWithErrorBody(): void {
    const { chunks, retryAfter } = this.errorBody!;
    const text = Buffer.concat(chunks).toString('utf8').slice(0, MAX_ERROR_BODY_BYTES);
    this.fail(toGatewayError(new BackendErrorReply(this.status, text, retryAfter)));
  }

  private readonly onAbort = (): void => this.fail(this.options.signal.reason);

  /** Called by the timer. */
  timeout(phase: TimeoutPhase, ms: number): void {
    this.fail(new GatewayError('timeout', `backend ${phase} timeout after ${ms} ms`));
  }

  private settle(): void {
    this.settled = true;
    clearTimeout(this.timer);
    this.options.signal.removeEventListener('abort', this.onAbort);
  }
}

/** Timer callbacks get the call as an argument: no closure per request. */
function expireTimer(call: BackendCall): void {
  call.timerFired();
}

function sendUnlessSettled(call: BackendCall): void {
  call.sendUnlessSettled();
}

/** What an attempt is aborted with once its call has settled: undici hands it back to the call, which ignores it. */
const CALL_SETTLED = new Error('the call has settled');
