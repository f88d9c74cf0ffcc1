import { MetricsSettingsError, readStatsdSettings, type StatsdSettings } from '#metrics';

/** The gateway's own settings, from the environment, validated once at start-up. */
export interface GatewayConfig {
  host: string;
  port: number;
  modelsConfigPath: string;
  /** How long shutdown waits for in-flight requests before stopping engines anyway. */
  shutdownGraceMs: number;
  /** Largest accepted request body. */
  bodyLimitBytes: number;
  /**
   * How long a client may take to send a request's line and headers (Node's `headersTimeout`), and the whole request,
   * body included (`requestTimeout`): past either it is answered 408. Neither bounds the answer, so a long stream of
   * tokens is never cut by them.
   */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** How often backends' /health is polled. */
  healthPollMs: number;
  /** Set: the dispatch queue lives in this Redis (BullMQ), shared with every replica that uses it. Unset: in process. */
  redisUrl: string | undefined;
  /** With Redis: whether this replica also runs jobs (any replica's), or only enqueues its own. */
  dispatchWorkers: boolean;
  /** With Redis: the prefix of its keys and channels; replicas that share caps share it. */
  dispatchPrefix: string;
  /** Where the StatsD metrics go (STATSD_HOST/PORT/PREFIX); null with STATSD_HOST=off. */
  statsd: StatsdSettings | null;
}

export class GatewayConfigError extends Error {}

export function readGatewayConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  return {
    host: env.HOST ?? '0.0.0.0',
    port: integer(env, 'PORT', 8000, 0, 65535),
    modelsConfigPath: env.MODELS_CONFIG ?? 'config/models.yaml',
    shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', 15_000, 0, 600_000),
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 1_048_576, 1024, 64 * 1_048_576),
    ...receiveTimeouts(env),
    healthPollMs: integer(env, 'HEALTH_POLL_MS', 1000, 50, 60_000),
    redisUrl: redisUrl(env),
    dispatchWorkers: onOff(env, 'DISPATCH_WORKERS', true),
    dispatchPrefix: prefix(env, 'DISPATCH_PREFIX', 'sluice'),
    statsd: statsdSettings(env),
  };
}

function receiveTimeouts(env: NodeJS.ProcessEnv): Pick<GatewayConfig, 'headersTimeoutMs' | 'requestTimeoutMs'> {
  const requestTimeoutMs = integer(env, 'REQUEST_TIMEOUT_MS', 30_000, 1000, 600_000);
  const headersTimeoutMs = integer(env, 'HEADERS_TIMEOUT_MS', Math.min(10_000, requestTimeoutMs), 1000, 600_000);
  // Node refuses to start a server whose headers may take longer than the whole request.
  if (headersTimeoutMs > requestTimeoutMs)
    throw new GatewayConfigError(
      `HEADERS_TIMEOUT_MS="${headersTimeoutMs}" is not valid: it must not exceed REQUEST_TIMEOUT_MS (${requestTimeoutMs}).`,
    );
  return { headersTimeoutMs, requestTimeoutMs };
}

function statsdSettings(env: NodeJS.ProcessEnv): StatsdSettings | null {
  try {
    return readStatsdSettings(env);
  } catch (error) {
    if (error instanceof MetricsSettingsError) throw new GatewayConfigError(error.message);
    throw error;
  }
}

function redisUrl(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.REDIS_URL;
  if (raw === undefined || raw === '') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'redis:' && url?.protocol !== 'rediss:') {
    throw new GatewayConfigError(
      `REDIS_URL="${raw}" is not valid: write it as redis://host:port (e.g. redis://redis:6379), or leave it unset for the in-process queue.`,
    );
  }
  return raw;
}

function prefix(env: NodeJS.ProcessEnv, key: string, fallback: string): string {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(raw))
    throw new GatewayConfigError(`${key}="${raw}" is not valid: use letters, digits, _ and - (default ${fallback}).`);
  return raw;
}

function onOff(env: NodeJS.ProcessEnv, key: string, fallback: boolean): boolean {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'on') return true;
  if (raw === 'off') return false;
  throw new GatewayConfigError(`${key}="${raw}" is not valid: use on or off (default ${fallback ? 'on' : 'off'}).`);
}

function integer(env: NodeJS.ProcessEnv, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new GatewayConfigError(
      `${key}="${raw}" is not valid: use an integer from ${min} to ${max} (default ${fallback}).`,
    );
  }
  return value;
}

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
