import { STATSD_DEFAULTS, type StatsdSettings } from './statsd-metrics.js';

export class MetricsSettingsError extends Error {}

/**
 * StatsD from the environment: STATSD_HOST (default 127.0.0.1; `off` sends nothing), STATSD_PORT (8125),
 * STATSD_PREFIX (none, so the keys are exactly `requests.total` and friends).
 */
export function readStatsdSettings(env: NodeJS.ProcessEnv): StatsdSettings | null {
  const host = env.STATSD_HOST === undefined || env.STATSD_HOST === '' ? STATSD_DEFAULTS.host : env.STATSD_HOST;
  if (host === 'off') return null;
  const portText = env.STATSD_PORT;
  const port = portText === undefined || portText === '' ? STATSD_DEFAULTS.port : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new MetricsSettingsError(
      `STATSD_PORT="${portText}" is not valid: use an integer from 1 to 65535 (default ${STATSD_DEFAULTS.port}).`,
    );
  }
  const prefix = env.STATSD_PREFIX ?? STATSD_DEFAULTS.prefix;
  if (prefix !== '' && !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/.test(prefix)) {
    throw new MetricsSettingsError(
      `STATSD_PREFIX="${prefix}" is not valid: use dot-separated words of letters, digits, _ and - (e.g. sluice or prod.sluice), or leave it unset for none.`,
    );
  }
  return { ...STATSD_DEFAULTS, host, port, prefix };
}
