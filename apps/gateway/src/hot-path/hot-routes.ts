import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ArgumentMetadata, Type, ValidationPipe } from '@nestjs/common';
import type { ApiKeys } from '../auth/api-keys.js';
import { presentedKey } from '../auth/authentication.hook.js';
import { addressCaller, type Caller } from '../auth/caller.js';
import { logDeparture } from '../http/client-departure.hook.js';
import { writeError, type Exchange } from '../http/exchange.js';
import { requestIdOf } from '../http/request-id.js';
import type { ShutdownDrain } from '../http/shutdown-drain.js';
import { RequestFollower, type FollowedRoute, type ModelSource } from '../metrics/request-metrics.hook.js';
import { startObservation } from '../metrics/request-observation.js';
import { readJsonBody } from './json-body.js';

/** One hot route: the body it takes, and its answer (shared with its Fastify route). */
export interface HotRoute {
  path: string;
  dto: Type<unknown>;
  answer(body: unknown, exchange: Exchange): Promise<void>;
}

/** A hot route with what its requests share: how the metrics count it, what its validation is told. */
interface Taken {
  route: HotRoute;
  followed: FollowedRoute;
  metadata: ArgumentMetadata;
}

export interface HotRoutesOptions {
  routes: readonly HotRoute[];
  bodyLimitBytes: number;
  keys?: ApiKeys;
  drain: ShutdownDrain;
  follower: RequestFollower;
  /** The route DTOs' validation: the same pipe, and so the same refusals, as every Fastify route's. */
  validation: ValidationPipe;
  /** Where a request goes that the hot routes do not take: Fastify's router, hooks and Nest's pipeline. */
  fallback: (request: IncomingMessage, response: ServerResponse) => void;
}

/**
 * The generation routes' ordinary requests, answered straight from Node's HTTP server: what Fastify's hooks and
 * Nest's pipeline do for them (authentication, request id, metrics, drain, departure log, JSON parsing, validation)
 * is done here in the same order with the same modules, without a framework's request objects and hook chains,
 * which cost more CPU per request than a plain proxy spends in all (PERFORMANCE.md). A request is taken only when
 * nothing about it before its body needs those routes' other answers: anything else (another route or method, a
 * query string, no Content-Length, `Expect`, a body over the limit, another media type, no valid key, a server
 * that is closing) goes on to Fastify untouched, whose answer is the one its tests pin.
 */
export class HotRoutes {
  private readonly routes: ReadonlyMap<string, Taken>;
  private closing = false;
  private readonly callers = new Map<string, Caller>();

  constructor(private readonly options: HotRoutesOptions) {
    this.routes = new Map(
      options.routes.map((route) => [
        route.path,
        { route, followed: RequestFollower.routeOf(route.path)!, metadata: { type: 'body', metatype: route.dto } },
      ]),
    );
  }

  /** From now on every request goes to Fastify, which refuses it as the server closes. */
  close(): void {
    this.closing = true;
  }

  /** Takes the request if it is a hot route's ordinary one; false leaves it, untouched, to the caller. */
  take(request: IncomingMessage, response: ServerResponse): boolean {
    if (request.method !== 'POST' || this.closing) return false;
    const hot = this.routes.get(request.url ?? '');
    if (hot === undefined) return false;
    const headers = request.headers;
    const length = Number(headers['content-length']);
    if (!(length > 0 && length <= this.options.bodyLimitBytes)) return false;
    if (headers['transfer-encoding'] !== undefined || headers.expect !== undefined) return false;
    if (!isJson(headers['content-type'])) return false;
    const { keys } = this.options;
    if (keys === undefined) {
      this.answer(hot, request, response, this.addressCaller(request.socket.remoteAddress ?? ''));
      return true;
    }
    const key = presentedKey(request);
    if (key === undefined) return false;
    keys.find(key).then(
      (caller) => (caller ? this.answer(hot, request, response, caller) : this.options.fallback(request, response)),
      () => this.options.fallback(request, response),
    );
    return true;
  }

  private answer(
    { route, followed, metadata }: Taken,
    request: IncomingMessage,
    response: ServerResponse,
    caller: Caller,
  ): void {
    const exchange = new HotExchange(requestIdOf(request), request, response, caller, request.url!);
    // What the Fastify hooks do for every request, in their order (create-gateway-app.ts).
    this.options.follower.follow(response, followed, exchange, startObservation(request));
    this.options.drain.track(request, response);
    logDeparture(exchange, response);
    // A client that left while its key was looked up: its answer closed before anyone listened; counted as cancelled.
    if (response.closed) {
      response.emit('close');
      return;
    }
    readJsonBody(request, (error, body) => {
      if (error !== undefined) return writeError(exchange, response, error);
      exchange.body = body;
      let valid: Promise<unknown>;
      try {
        valid = this.options.validation.transform(body, metadata);
      } catch (refusal) {
        return writeError(exchange, response, refusal);
      }
      valid
        .then((checked: unknown) => route.answer(checked, exchange))
        .catch((failure: unknown) => writeError(exchange, response, failure));
    });
  }

  /** Without keys a caller is its address; the same few addresses ask again and again. */
  private addressCaller(address: string): Caller {
    let caller = this.callers.get(address);
    if (caller === undefined) {
      if (this.callers.size >= 1024) this.callers.clear();
      caller = addressCaller(address);
      this.callers.set(address, caller);
    }
    return caller;
  }
}

/** JSON as Fastify's parser takes it on these routes, in the spellings clients send; any other goes to Fastify. */
function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  if (contentType === 'application/json') return true;
  return /^application\/json\s*(?:;\s*charset="?utf-8"?\s*)?$/i.test(contentType);
}

class HotExchange implements Exchange, ModelSource {
  readonly method = 'POST';
  private readonly arrivedAt = performance.now();
  body: unknown;

  constructor(
    readonly id: string,
    readonly raw: IncomingMessage,
    readonly res: ServerResponse,
    readonly caller: Caller,
    readonly url: string,
  ) {}

  elapsedMs(): number {
    return performance.now() - this.arrivedAt;
  }
}
