import { isIP } from 'node:net';
import { STATSD_DEFAULTS, type StatsdSettings } from './statsd-metrics.js';

export class MetricsSettingsError extends Error {}

/**
 * A datagram to a daemon on this host: loopback has no 1,500-byte link to fit, and StatsD, statsd_exporter, Telegraf
 * and the Datadog agent all read datagrams of 8 KiB (the agent's default buffer), so each carries ~6x the requests.
 */
const LOOPBACK_DATAGRAM_BYTES = 8192;
/** The largest payload a UDP datagram over IPv4 can carry. */
const MAX_DATAGRAM_BYTES = 65_507;
const MIN_DATAGRAM_BYTES = 512;

/**
 * StatsD from the environment: STATSD_HOST (default 127.0.0.1; `off` sends nothing), STATSD_PORT (8125),
 * STATSD_PREFIX (none, so the keys are exactly `requests.total` and friends), STATSD_MAX_DATAGRAM_BYTES (8192 to a
 * loopback host, else 1400: within an Ethernet frame).
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
  return { ...STATSD_DEFAULTS, host, port, prefix, maxBufferBytes: datagramBytes(env.STATSD_MAX_DATAGRAM_BYTES, host) };
}

function datagramBytes(text: string | undefined, host: string): number {
  if (text === undefined || text === '')
    return isLoopback(host) ? LOOPBACK_DATAGRAM_BYTES : STATSD_DEFAULTS.maxBufferBytes;
  const bytes = Number(text);
  if (!Number.isInteger(bytes) || bytes < MIN_DATAGRAM_BYTES || bytes > MAX_DATAGRAM_BYTES) {
    throw new MetricsSettingsError(
      `STATSD_MAX_DATAGRAM_BYTES="${text}" is not valid: use an integer from ${MIN_DATAGRAM_BYTES} to ${MAX_DATAGRAM_BYTES} (default ${LOOPBACK_DATAGRAM_BYTES} to a loopback STATSD_HOST, else ${STATSD_DEFAULTS.maxBufferBytes}).`,
    );
  }
  return bytes;
}

/** localhost, 127.0.0.0/8 or ::1: a name other than localhost may resolve anywhere, so it counts as remote. */
function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}
