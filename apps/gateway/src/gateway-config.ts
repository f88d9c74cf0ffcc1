/** The gateway's own settings, from the environment, validated once at start-up. */
export interface GatewayConfig {
  host: string;
  port: number;
  modelsConfigPath: string;
  /** How long shutdown waits for in-flight requests before stopping engines anyway. */
  shutdownGraceMs: number;
  /** Largest accepted request body. */
  bodyLimitBytes: number;
  /** How often backends' /health is polled. */
  healthPollMs: number;
}

export class GatewayConfigError extends Error {}

export function readGatewayConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  return {
    host: env.HOST ?? '0.0.0.0',
    port: integer(env, 'PORT', 8000, 0, 65535),
    modelsConfigPath: env.MODELS_CONFIG ?? 'config/models.yaml',
    shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', 15_000, 0, 600_000),
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 1_048_576, 1024, 64 * 1_048_576),
    healthPollMs: integer(env, 'HEALTH_POLL_MS', 1000, 50, 60_000),
  };
}

function integer(env: NodeJS.ProcessEnv, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new GatewayConfigError(`${key}="${raw}" is not valid: use an integer from ${min} to ${max} (default ${fallback}).`);
  }
  return value;
}

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
