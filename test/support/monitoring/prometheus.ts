import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManagedProcess } from '../processes.js';
import { request } from '../http-client.js';
import { freeTcpPort } from '#backends/testing';
import { prometheusApi, type PrometheusApi, type PrometheusSample } from './prometheus-api.js';
import { pollUntil, removeDir, retryOnPortClash, startService } from './service-process.js';

export type { PrometheusApi, PrometheusRangeSeries, PrometheusSample } from './prometheus-api.js';

/** Debian's prometheus package. */
const PROMETHEUS = '/usr/bin/prometheus';

export interface PrometheusOptions {
  /** host:port of each /metrics server to scrape, e.g. ['127.0.0.1:41234']. */
  scrapeTargets: string[];
  /** Default 1 (the scrape timeout is the same: Prometheus refuses one longer than the interval). */
  scrapeIntervalS?: number;
  metricsPath?: string;
  /** The `job` label of every target. Default `sluice-test`. */
  job?: string;
  /** A file whose content Prometheus sends as `Authorization: Bearer <content>` (the gateway's METRICS_TOKEN). */
  credentialsFile?: string;
}

export interface Prometheus extends PrometheusApi {
  url: string;
  job: string;
  /**
   * Resolves once every target has been scraped by a scrape that started after `afterMs` (so it saw everything the
   * target counted before then), with each target's `up`. A target that is down still counts as scraped (up 0).
   * Note: Prometheus applies a new config's targets about 5 s after start, so the first scrape comes late.
   */
  waitForScrapeAfter(
    afterMs: number,
    timeoutMs?: number,
  ): Promise<Array<{ instance: string; up: number; scrapedAtMs: number }>>;
  process: ManagedProcess;
  /** Stops Prometheus and deletes its config and TSDB. */
  stop(): Promise<void>;
}

/** A real Prometheus server on a free port, with its config and TSDB in a temp dir of its own. */
export async function startPrometheus(options: PrometheusOptions): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-prometheus-'));
  try {
    return await retryOnPortClash('prometheus', () => startIn(dir, options));
  } catch (error) {
    removeDir(dir);
    throw error;
  }
}

async function startIn(dir: string, options: PrometheusOptions): Promise<Prometheus> {
  const job = options.job ?? 'sluice-test';
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, prometheusYml(job, options));
  const port = await freeTcpPort();
  const url = `http://127.0.0.1:${port}`;
  const server = startService(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    {},
    'apt-get install prometheus',
  );
  try {
    await Promise.race([
      pollUntil(async () => ((await request(`${url}/-/ready`)).status === 200 ? true : undefined), {
        timeoutMs: 30_000,
        intervalMs: 50,
        describe: () => `prometheus on ${url} never became ready; output:\n${server.output.join('\n')}`,
      }),
      server.exited.then(({ code, signal }) => {
        throw new Error(`prometheus exited (${code ?? signal}); output:\n${server.output.join('\n')}`);
      }),
    ]);
  } catch (error) {
    await server.stop();
    throw error;
  }
  const api = prometheusApi(url);
  return {
    ...api,
    url,
    job,
    waitForScrapeAfter: (afterMs, timeoutMs = 30_000) =>
      waitForScrapeAfter(api, job, options.scrapeTargets.length, afterMs, timeoutMs),
    process: server,
    async stop() {
      await server.stop();
      removeDir(dir);
    },
  };
}

async function waitForScrapeAfter(
  api: PrometheusApi,
  job: string,
  targets: number,
  afterMs: number,
  timeoutMs: number,
) {
  let last: PrometheusSample[] = [];
  // `up` is written by every scrape, successful or not, with the scrape's start time as its timestamp.
  const scraped = await pollUntil(
    async () => {
      last = await api.query(`timestamp(up{job="${job}"})`);
      return last.length === targets && last.every((sample) => sample.value * 1000 > afterMs) ? last : undefined;
    },
    {
      timeoutMs,
      describe: () =>
        `no scrape of all ${targets} target(s) of job ${job} after ${new Date(afterMs).toISOString()}; last: ${JSON.stringify(last)}`,
    },
  );
  const up = await api.query(`up{job="${job}"}`);
  return scraped.map((sample) => ({
    instance: sample.metric.instance ?? '',
    scrapedAtMs: sample.value * 1000,
    up: up.find((u) => u.metric.instance === sample.metric.instance)?.value ?? 0,
  }));
}

function prometheusYml(job: string, options: PrometheusOptions): string {
  const interval = `${options.scrapeIntervalS ?? 1}s`;
  // JSON is YAML: no quoting worries.
  return JSON.stringify(
    {
      global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
      scrape_configs: [
        {
          job_name: job,
          metrics_path: options.metricsPath ?? '/metrics',
          static_configs: [{ targets: options.scrapeTargets }],
          ...(options.credentialsFile ? { authorization: { credentials_file: options.credentialsFile } } : {}),
        },
      ],
    },
    null,
    2,
  );
}
