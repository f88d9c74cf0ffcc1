import { MetricsSettingsError, readStatsdSettings, type StatsdSettings } from '#metrics';
import type { RedisDownPolicy } from '#rate-limits';

/** The gateway's own settings, from the environment, validated once at start-up. */
export interface GatewayConfig {
  /** HOST as given; unset: 127.0.0.1 without keys, every interface with them (listenHost). */
  host: string | undefined;
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
  /** How long one /health probe may take: a backend that answers no faster counts as failing it. */
  healthTimeoutMs: number;
  /** Failed /health probes in a row after which a local engine whose process still runs is replaced; 0: never. */
  engineWatchdogFailures: number;
  /** Failed calls in a row after which a replica of a model of several is ejected (outlier-detector.ts); 0: never. */
  outlierFailures: number;
  /** A replica's first ejection; each later one lasts this times its count, up to outlierMaxEjectionMs. */
  outlierEjectionMs: number;
  outlierMaxEjectionMs: number;
  /** How long a replaced (or stopped) engine gets between SIGTERM and SIGKILL. */
  engineKillGraceMs: number;
  /** How often the file of a `failed` local model is checked again; once it loads, the model serves. */
  modelFileRetryMs: number;
  /** Set: the dispatch queue lives in this Redis (BullMQ), shared with every replica that uses it. Unset: in process. */
  redisUrl: string | undefined;
  /** With Redis: whether this replica also runs jobs (any replica's), or only enqueues its own. */
  dispatchWorkers: boolean;
  /** With Redis: the prefix of its keys and channels; replicas that share caps share it. */
  dispatchPrefix: string;
  /**
   * With Redis: whether /health/ready answers 503 while the dispatch queue's Redis is unreachable (`required`, the
   * default) or only reports it (`ignored`): READINESS_REDIS, trade-off in DEPLOY.md.
   */
  readinessRedis: 'required' | 'ignored';
  /** With Redis: what a limited key's request gets while Redis is unreachable (RATE_LIMIT_REDIS_DOWN; DEPLOY.md). */
  rateLimitRedisDown: RedisDownPolicy;
  /** The keys file (API_KEYS_FILE); unset: no keys, every caller is known by its address. */
  apiKeysFile: string | undefined;
  /** API_KEYS_REDIS=on: keys also live in Redis (REDIS_URL), in the hash `<DISPATCH_PREFIX>:api-keys`. */
  apiKeysRedis: boolean;
  /** How long a key looked up in Redis is trusted (found or not): the bound on a revocation reaching a replica. */
  apiKeysCacheMs: number;
  /** AUTH=off: serve without keys on any interface, knowingly. */
  authOff: boolean;
  /** METRICS_TOKEN: GET /metrics then needs `Authorization: Bearer <token>`; unset: open. */
  metricsToken: string | undefined;
  /** Where the StatsD metrics go (STATSD_HOST/PORT/PREFIX); null with STATSD_HOST=off. */
  statsd: StatsdSettings | null;
}

export class GatewayConfigError extends Error {}

export function readGatewayConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  return {
    host: env.HOST === '' ? undefined : env.HOST,
    port: integer(env, 'PORT', 8000, 0, 65535),
    modelsConfigPath: env.MODELS_CONFIG ?? 'config/models.yaml',
    shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', 15_000, 0, 600_000),
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 1_048_576, 1024, 64 * 1_048_576),
    ...receiveTimeouts(env),
    healthPollMs: integer(env, 'HEALTH_POLL_MS', 1000, 50, 60_000),
    healthTimeoutMs: integer(env, 'HEALTH_TIMEOUT_MS', 1000, 50, 60_000),
    engineWatchdogFailures: integer(env, 'ENGINE_WATCHDOG_FAILURES', 5, 0, 1000),
    engineKillGraceMs: integer(env, 'ENGINE_KILL_GRACE_MS', 2000, 0, 600_000),
    outlierFailures: integer(env, 'OUTLIER_FAILURES', 5, 0, 1000),
    outlierEjectionMs: integer(env, 'OUTLIER_EJECTION_MS', 30_000, 100, 3_600_000),
    outlierMaxEjectionMs: integer(env, 'OUTLIER_MAX_EJECTION_MS', 300_000, 100, 3_600_000),
    modelFileRetryMs: integer(env, 'MODEL_FILE_RETRY_MS', 10_000, 100, 3_600_000),
    redisUrl: redisUrl(env),
    dispatchWorkers: onOff(env, 'DISPATCH_WORKERS', true),
    dispatchPrefix: prefix(env, 'DISPATCH_PREFIX', 'sluice'),
    readinessRedis: oneOf(env, 'READINESS_REDIS', ['required', 'ignored'] as const, 'required'),
    rateLimitRedisDown: oneOf(env, 'RATE_LIMIT_REDIS_DOWN', ['refuse', 'local'] as const, 'refuse'),
    statsd: statsdSettings(env),
    apiKeysFile: env.API_KEYS_FILE === '' ? undefined : env.API_KEYS_FILE,
    apiKeysRedis: apiKeysRedis(env),
    apiKeysCacheMs: integer(env, 'API_KEYS_CACHE_MS', 5000, 0, 60_000),
    authOff: !onOff(env, 'AUTH', true),
    metricsToken: metricsToken(env),
  };
}

function apiKeysRedis(env: NodeJS.ProcessEnv): boolean {
  const on = onOff(env, 'API_KEYS_REDIS', false);
  if (on && redisUrl(env) === undefined)
    throw new GatewayConfigError(
      'API_KEYS_REDIS=on needs REDIS_URL (the Redis the keys live in): set it, or API_KEYS_REDIS=off.',
    );
  return on;
}

/** A token guessable in a few tries would open /metrics to anyone; a short one is a mistake worth stopping for. */
function metricsToken(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.METRICS_TOKEN;
  if (raw === undefined || raw === '') return undefined;
  if (!/^[\x21-\x7e]{16,}$/.test(raw))
    throw new GatewayConfigError(
      'METRICS_TOKEN is not valid: use at least 16 printable characters without spaces (e.g. `openssl rand -hex 32`), or leave it unset for an open /metrics.',
    );
  return raw;
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

function oneOf<T extends string>(env: NodeJS.ProcessEnv, key: string, values: readonly T[], fallback: T): T {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (!(values as readonly string[]).includes(raw))
    throw new GatewayConfigError(`${key}="${raw}" is not valid: use ${values.join(' or ')} (default ${fallback}).`);
  return raw as T;
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

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Where the gateway listens. Without keys anyone who reaches the port could use every model and read every backend's
 * details, so it listens on 127.0.0.1 unless AUTH=off says to serve open on another interface. With keys (or AUTH=off)
 * an unset HOST is every interface, as a container needs.
 */
export function listenHost(config: GatewayConfig, hasKeys: boolean): string {
  if (hasKeys || config.authOff) return config.host ?? '0.0.0.0';
  const host = config.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host))
    throw new GatewayConfigError(
      `HOST=${host} without API keys would serve every model to anyone who reaches it: set API_KEYS_FILE ` +
        'or API_KEYS_REDIS=on (see DEPLOY.md, "API keys"), or AUTH=off to serve open knowingly, or leave HOST unset for 127.0.0.1.',
    );
  return host;
}

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
