import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import type { Socket } from 'node:net';
import { GatewayError } from './gateway-error.js';
import type { CallOptions, GenerationOutcome } from './inference-backend.js';
import { SseParser, type SseSink } from './sse-parser.js';
import type { TgiErrorEvent, TgiStreamEvent } from './tgi-protocol.js';
import { BackendErrorReply, errnoCode, toGatewayError } from './to-gateway-error.js';

/** node:http or node:https: what actually opens the backend request. */
export interface NodeTransport {
  request(options: RequestOptions, onResponse: (res: IncomingMessage) => void): ClientRequest;
}

/** What a stream call needs from its backend; built once per backend. */
export interface StreamCallTarget {
  readonly transport: NodeTransport;
  /** Everything but the body and its length: host, port, path, method, headers, keep-alive agent. */
  readonly requestOptions: Readonly<RequestOptions>;
}

type TimeoutPhase = 'connect' | 'first byte' | 'inter-token' | 'total';

/** Enough of an error body to explain it; the rest is drained, not kept. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * One `POST /generate_stream` call, from send to the final event: timeouts, client abort, the one retry of a stale
 * keep-alive socket, SSE parsing, and the outcome. It is the request path's hottest code, so it speaks node:http
 * directly (axios and its Observable wrapper cost ~20 % of the gateway's CPU per request, measured with
 * `npm run bench -- overhead`); it holds the node ClientRequest, which is how it times the TCP connect, knows whether
 * the socket was a reused keep-alive one, and destroys the request on a timeout or abort — how the backend learns we
 * left and frees the slot.
 */
export class TgiStreamCall implements SseSink {
  private readonly parser = new SseParser(this);
  private resolve!: (outcome: GenerationOutcome) => void;
  private reject!: (error: unknown) => void;
  private settled = false;
  private retried = false;
  private startedAt = 0;
  private firstEventAt = 0;
  private events = 0;
  private backendRequest: ClientRequest | undefined;
  private socketBytesReadAtStart = 0;
  private response: IncomingMessage | undefined;
  private totalTimer: NodeJS.Timeout | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly target: StreamCallTarget,
    private readonly body: string,
    private readonly options: CallOptions,
  ) {}

  run(): Promise<GenerationOutcome> {
    const { signal, timeouts } = this.options;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<GenerationOutcome>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.startedAt = performance.now();
      signal.addEventListener('abort', this.onAbort);
      this.totalTimer = setTimeout(expire, timeouts.totalMs, this, 'total', timeouts.totalMs);
      this.progressTimer = setTimeout(expire, timeouts.firstByteMs, this, 'first byte', timeouts.firstByteMs);
      this.send();
    });
  }

  onSseData(data: string): void {
    if (this.settled || data.length === 0) return;
    let event: TgiStreamEvent | TgiErrorEvent;
    try {
      event = JSON.parse(data) as TgiStreamEvent | TgiErrorEvent;
    } catch {
      return this.fail(new GatewayError('upstream', `backend sent an event that is not JSON: ${data.slice(0, 200)}`));
    }
    if (typeof event !== 'object' || event === null) {
      return this.fail(
        new GatewayError('upstream', `backend sent an event that is not a JSON object: ${data.slice(0, 200)}`),
      );
    }
    if ((event as Partial<TgiErrorEvent>).error !== undefined) {
      return this.fail(toGatewayError(new BackendErrorReply(200, event as TgiErrorEvent)));
    }
    const tokenEvent = event as TgiStreamEvent;
    const now = performance.now();
    if (this.events++ === 0) {
      this.firstEventAt = now;
      clearTimeout(this.progressTimer);
      const { interTokenMs } = this.options.timeouts;
      this.progressTimer = setTimeout(expire, interTokenMs, this, 'inter-token', interTokenMs);
    } else {
      this.progressTimer!.refresh();
    }
    const { onToken } = this.options;
    if (onToken !== undefined) {
      try {
        onToken(tokenEvent);
      } catch (error) {
        return this.fail(error);
      }
      if (this.settled) return; // the relay aborted the call
    }
    if (tokenEvent.generated_text != null || tokenEvent.details != null) this.finish(tokenEvent, now);
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
      res.on('data', this.onStreamData);
      res.on('end', this.onStreamEnd);
      res.on('close', this.onStreamEnd);
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
    this.fail(toGatewayError(error));
  };

  /**
   * A backend may close an idle keep-alive socket just as we write a request into it; the request never reached
   * it, so sending it again on a new socket is safe. Only then: not on a new socket, not after any answer byte.
   */
  private isStaleKeepAliveReset(error: unknown): boolean {
    const req = this.backendRequest;
    if (req?.reusedSocket !== true) return false;
    const code = errnoCode(error);
    if (code !== 'ECONNRESET' && code !== 'EPIPE') return false;
    return (req.socket?.bytesRead ?? this.socketBytesReadAtStart) === this.socketBytesReadAtStart;
  }

  private readonly onStreamData = (chunk: Buffer): void => {
    if (!this.settled) this.parser.push(chunk);
  };

  private readonly onStreamEnd = (): void => {
    if (!this.settled) this.fail(new GatewayError('upstream', 'backend closed the stream before the end'));
  };

  private readonly onStreamError = (error: unknown): void => {
    if (!this.settled)
      this.fail(new GatewayError('upstream', 'backend closed the stream before the end', { cause: error }));
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

  private finish(event: TgiStreamEvent, now: number): void {
    const { details } = event;
    if (details == null) {
      return this.fail(
        new GatewayError('upstream', 'backend sent its final event without `details` although the call asked for them'),
      );
    }
    this.settle();
    this.resolve({
      generatedText: event.generated_text ?? '',
      finishReason: details.finish_reason,
      inputTokens: details.input_length,
      outputTokens: details.generated_tokens,
      seed: details.seed ?? null,
      timings: { firstTokenMs: this.firstEventAt - this.startedAt, backendMs: now - this.startedAt },
    });
  }

  private readonly onAbort = (): void => this.fail(this.options.signal.reason);

  /** Called by the timers below. */
  timeout(phase: TimeoutPhase, ms: number): void {
    this.fail(new GatewayError('timeout', `backend ${phase} timeout after ${ms} ms`));
  }

  private fail(error: unknown): void {
    if (this.settled) return;
    this.settle();
    // Closing the connection is how TGI and our engine learn that nobody waits for the answer any more. A complete
    // answer (a non-200 reply read to its end) leaves the socket in the pool.
    if (this.response?.complete !== true) this.backendRequest?.destroy();
    this.reject(error);
  }

  private settle(): void {
    this.settled = true;
    clearTimeout(this.totalTimer);
    clearTimeout(this.progressTimer);
    clearTimeout(this.connectTimer);
    this.options.signal.removeEventListener('abort', this.onAbort);
  }
}

/** Timer callbacks get the call as an argument: no closure per request. */
function expire(call: TgiStreamCall, phase: TimeoutPhase, ms: number): void {
  call.timeout(phase, ms);
}

/** The connect timer is not cancelled on connect (no listener per socket): it checks when it fires. */
function expireUnlessConnected(call: TgiStreamCall, socket: Socket, ms: number): void {
  if (socket.connecting) call.timeout('connect', ms);
}
