import type { FastifyRequest } from 'fastify';
import { GatewayError } from '#backends';

/** A key's limits; each one absent means unlimited. Windows are the last 60 s. */
export interface KeyLimits {
  /** Requests admitted per minute. */
  requestsPerMinute?: number;
  /** Tokens (input + output) charged per minute. */
  tokensPerMinute?: number;
  /** Requests running or waiting at once. */
  maxConcurrent?: number;
}

/**
 * Who a request comes from, as the gateway judges it: the API key it showed, or, where the gateway runs without keys,
 * its client address. Limits, fair queueing, scopes and logs all read this one answer.
 */
export interface Caller {
  /** The key's name, or `addr:<client address>` without keys: what limits are counted and turns are taken by. */
  readonly id: string;
  /** Whether the caller showed a configured key (false when the gateway runs without keys). */
  readonly keyed: boolean;
  /** May see backend details on /models and take admin actions. */
  readonly admin: boolean;
  /** The models it may use, by canonical id, or '*' for all. */
  readonly models: readonly string[] | '*';
  /** Its share of a model's turns when several callers wait (fair queueing); 1 by default. */
  readonly weight: number;
  readonly limits: KeyLimits;
}

/** A caller without a key: the whole gateway is its own (it listens on 127.0.0.1 only, or AUTH=off says so). */
export function addressCaller(address: string): Caller {
  return { id: `addr:${address}`, keyed: false, admin: true, models: '*', weight: 1, limits: {} };
}

/**
 * Who calls an open route (a probe, /docs, /metrics) without a valid key where the gateway has keys: it may read
 * what those routes show anyone, and nothing an admin or a model's scope guards.
 */
export const ANONYMOUS_CALLER: Caller = {
  id: 'anonymous',
  keyed: false,
  admin: false,
  models: [],
  weight: 1,
  limits: {},
};

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook before the body is read; see callerOf. */
    caller: Caller | null;
  }
}

/** The request's caller: what the authentication hook found, else its client address. */
export function callerOf(request: FastifyRequest): Caller {
  return request.caller ?? addressCaller(request.ip);
}

/** Whether the caller may use a model (by canonical id). */
export function mayUseModel(caller: Caller, modelId: string): boolean {
  return caller.models === '*' || caller.models.includes(modelId);
}

/** 403 for a model outside the caller's scope, on every route that names one. */
export function checkModelScope(caller: Caller, modelId: string, param = 'model'): void {
  if (!mayUseModel(caller, modelId))
    throw new GatewayError('forbidden', `the API key "${caller.id}" may not use model "${modelId}"`, { param });
}
