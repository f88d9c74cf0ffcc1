import dgram from 'node:dgram';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManagedProcess } from '../processes.js';
import { REPO_ROOT } from '../engine.js';
import { freeTcpPort, freeUdpPort } from '#backends/testing';
import { pollUntil, removeDir, retryOnPortClash, startService } from './service-process.js';
import { statsdGraphitePaths, type StatsdGraphitePaths } from './statsd-paths.js';

const STATSD_MAIN = join(REPO_ROOT, 'node_modules/statsd/stats.js');

export interface StatsdOptions {
  /** Carbon's line receiver (Graphite's `lineReceiverPort`). */
  graphitePort: number;
  /** The UDP port to listen on, for a client configured before the daemon starts. Default: a free one. */
  port?: number;
  /** statsd's flushInterval. Default 1000 ms (statsd's own default is 10 s). */
  flushIntervalMs?: number;
  /** Timer percentiles to compute (upper_<pct>, mean_<pct>, ...). Default [90], statsd's own. */
  percentThreshold?: number[];
  /**
   * false (statsd's default): an idle counter is flushed as 0, an idle timer as count 0, a gauge keeps its last
   * value, so dashboards show zeros rather than gaps. true: idle keys are dropped until they are sent again.
   */
  deleteIdleStats?: boolean;
  /**
   * true (statsd's default): counters at stats.<key> (per second) and stats_counts.<key> (count). false: at
   * stats.counters.<key>.rate and .count. Timers (stats.timers.<key>.*) and gauges (stats.gauges.<key>) are the
   * same either way.
   */
  legacyNamespace?: boolean;
  /** Anything else for the config file (e.g. `{ debug: true }`); it wins over the settings above. */
  extraConfig?: Record<string, unknown>;
}

export interface Statsd {
  host: '127.0.0.1';
  /** UDP port for metrics (`<key>:<value>|<type>`). */
  port: number;
  /** TCP management port (`health`, `stats`, `counters`, ...). */
  mgmtPort: number;
  flushIntervalMs: number;
  /** Where each kind of key lands in Graphite with this config. */
  paths: StatsdGraphitePaths;
  /** Sends raw StatsD lines in one datagram. */
  send(lines: string | string[]): Promise<void>;
  /** One management command's answer, e.g. `mgmt('stats')`. */
  mgmt(command: string): Promise<string>;
  /**
   * Resolves once statsd has handed carbon a flush that started after `afterMs` (default: now). That flush holds
   * every datagram statsd had read by then: normally all those sent before `afterMs`, but a daemon stalled on a
   * loaded machine runs its flush timer before reading what queued up meanwhile. And carbon takes a moment more to
   * make points readable. To know that what was sent is readable in Graphite, use `waitUntilDelivered`.
   */
  waitForFlush(afterMs?: number, timeoutMs?: number): Promise<void>;
  process: ManagedProcess;
  /**
   * Stops the daemon (SIGTERM). Whatever it received since its last flush is lost: see the note at the end of
   * this file.
   */
  stop(): Promise<void>;
}

/** The real Etsy statsd daemon (npm `statsd`) with its graphite backend, on free ports, config in a temp dir. */
export async function startStatsd(options: StatsdOptions): Promise<Statsd> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-statsd-'));
  try {
    return await retryOnPortClash('statsd', () => startIn(dir, options));
  } catch (error) {
    removeDir(dir);
    throw error;
  }
}

async function startIn(dir: string, options: StatsdOptions): Promise<Statsd> {
  const port = options.port ?? (await freeUdpPort());
  const mgmtPort = await freeTcpPort();
  const flushIntervalMs = options.flushIntervalMs ?? 1000;
  const legacyNamespace = options.legacyNamespace ?? true;
  const config = {
    port,
    address: '127.0.0.1',
    mgmt_port: mgmtPort,
    mgmt_address: '127.0.0.1',
    backends: ['./backends/graphite'],
    graphiteHost: '127.0.0.1',
    graphitePort: options.graphitePort,
    flushInterval: flushIntervalMs,
    percentThreshold: options.percentThreshold ?? [90],
    deleteIdleStats: options.deleteIdleStats ?? false,
    graphite: { legacyNamespace },
    // statsd fs.watch()es its config and reloads it on change: nothing here changes it.
    automaticConfigReload: false,
    ...options.extraConfig,
  };
  const configFile = join(dir, 'config.js');
  // statsd eval()s its config as a JavaScript object literal; JSON is one.
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  if (!existsSync(STATSD_MAIN)) throw new Error(`${STATSD_MAIN} not found (the statsd devDependency: npm ci)`);
  const daemon = startService(process.execPath, [STATSD_MAIN, configFile]);

  const mgmt = (command: string) => mgmtCommand(mgmtPort, command);
  try {
    // A port clash makes statsd exit (an unhandled EADDRINUSE); "health: up" means both servers are listening
    // (they bind in the same tick).
    await Promise.race([
      pollUntil(async () => ((await mgmt('health')).startsWith('health: up') ? true : undefined), {
        timeoutMs: 30_000,
        describe: () =>
          `statsd mgmt port ${mgmtPort} never answered "health: up"; output:\n${daemon.output.join('\n')}`,
      }),
      daemon.exited.then(({ code, signal }) => {
        throw new Error(`statsd exited (${code ?? signal}); output:\n${daemon.output.join('\n')}`);
      }),
    ]);
  } catch (error) {
    await daemon.stop();
    throw error;
  }

  return {
    host: '127.0.0.1',
    port,
    mgmtPort,
    flushIntervalMs,
    paths: statsdGraphitePaths({ legacyNamespace }),
    send: (lines) => sendDatagram(port, Array.isArray(lines) ? lines.join('\n') : lines),
    mgmt,
    waitForFlush: (afterMs = Date.now(), timeoutMs = flushIntervalMs * 3 + 10_000) =>
      pollUntil(async () => ((await lastFlushStartedAfter(mgmt, afterMs)) ? true : undefined), {
        timeoutMs,
        intervalMs: 50,
        describe: () => `statsd did not flush to graphite after ${new Date(afterMs).toISOString()}`,
      }).then(() => undefined),
    process: daemon,
    async stop() {
      await daemon.stop();
      removeDir(dir);
    },
  };
}

/**
 * `stats` reports graphite.last_flush as "seconds ago", counted from whole seconds (the backend stores
 * Math.round(ms / 1000) when its connection to carbon opens). So the flush instant is only known to within about
 * a second either way: count a flush only if even its earliest possible instant is after `afterMs`.
 */
async function lastFlushStartedAfter(mgmt: (command: string) => Promise<string>, afterMs: number): Promise<boolean> {
  const askedAt = Date.now();
  const stats = await mgmt('stats');
  const secondsAgo = /^graphite\.last_flush: (-?\d+)$/m.exec(stats);
  if (!secondsAgo) throw new Error(`no graphite.last_flush in statsd stats:\n${stats}`);
  // statsd's "now" is no earlier than askedAt, rounded to a second: last_flush >= round(askedAt) - secondsAgo, and
  // the connection opened no earlier than half a second before that. Another half second of margin covers the
  // moment between the flush taking its snapshot of the metrics and that connection opening.
  const lastFlushSecond = Math.round(askedAt / 1000) - Number(secondsAgo[1]);
  return (lastFlushSecond - 1) * 1000 > afterMs;
}

function mgmtCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`${command}\n`));
    socket.setEncoding('utf8');
    socket.setTimeout(5_000, () => socket.destroy(new Error(`statsd mgmt "${command}" timed out`)));
    let idle: NodeJS.Timeout | undefined;
    socket.on('data', (chunk: string) => {
      answer += chunk;
      clearTimeout(idle);
      // stats, counters, timers, gauges and del* end with END; health, config, help do not: take a pause as the end.
      if (/END\n\n$/.test(answer)) socket.end();
      else idle = setTimeout(() => socket.end(), command === 'health' ? 0 : 100);
    });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

function sendDatagram(port: number, payload: string): Promise<void> {
  const socket = dgram.createSocket('udp4');
  return new Promise<void>((resolve, reject) =>
    socket.send(payload, port, '127.0.0.1', (error) => {
      socket.close();
      if (error) reject(error);
      else resolve();
    }),
  );
}

/*
 * Does statsd flush on SIGTERM or SIGINT? No, in effect (statsd 0.9.0, read in stats.js and lib/process_mgmt.js,
 * and seen: a counter sent 0.5 s before the signal never reaches carbon):
 * - SIGTERM: process_mgmt's handler calls process.exit(); stats.js's process.on('exit') handler then runs
 *   flushMetrics(), which computes the flush ("Starting Final Flush" in debug), but the graphite backend only opens a
 *   TCP connection to carbon, asynchronously, and the process is gone before it connects. Nothing is sent.
 * - SIGINT: no handler; Node's default kills the process without an 'exit' event. Nothing is sent.
 * So up to one flushInterval of metrics is lost whenever the daemon stops. To keep them, wait for a flush
 * (`waitForFlush`) after the last datagram before stopping it.
 */
