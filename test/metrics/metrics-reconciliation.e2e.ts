import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../support/engine.js';
import { startGateway, type RunningGateway } from '../support/gateway.js';
import { freeUdpPort } from '#backends/testing';
import {
  renderSettled,
  seriesSum,
  seriesValues,
  startGraphite,
  startPrometheus,
  startStatsd,
  statsdTimerStats,
  waitUntilDelivered,
  type Graphite,
  type Prometheus,
  validateGrafanaDashboard,
  type Statsd,
} from '../support/monitoring/index.js';
import { ManagedProcess } from '../support/processes.js';

/**
 * The performance guide says: run the Locust scenario, watch requests.total and request.latency in Grafana, and they
 * must agree with Locust. Here that is checked with every real part: the embedded default (config/models.yaml, the
 * shipped models on local engines) under the guide's Locust scenario (scripts/load_test.py, Debian's Locust, 50 users
 * spawned at 5/s for 30 s) plus two users whose 1 ms deadline provokes timeouts; the gateway sends StatsD to the real
 * Etsy daemon, which flushes to a real Graphite (carbon + graphite-web); a real Prometheus scrapes /metrics.
 *
 * statsd computes percentiles per flush and never merges flushes, so the run is made to fall in ONE flush: statsd
 * starts just before Locust with a flush interval longer than the run. Counters would add up across flushes anyway.
 */
const RUN_S = 30;
const FLUSH_MS = 52_000;
const PERCENTILES = [50, 95, 99];
const MODELS = ['qwen2', 'llama3'];

interface ClientRecord {
  name: string;
  status: number;
  ok: boolean;
  response_time_ms: number;
  usage?: { input_tokens: number; output_tokens: number } | null;
  error_type?: string | null;
}

const modelOf = (record: ClientRecord) => record.name.split(' ').at(-1)!;
const near = (actual: number, expected: number) => Math.abs(actual - expected) <= Math.max(10, 0.05 * expected);

/** Locust 2.x keeps response times rounded to 2 significant digits above 100 ms (stats.py, `_log_response_time`). */
function locustRounded(ms: number): number {
  const step = roundingQuantum(ms) * 2;
  return step === 0 ? ms : Math.round(ms / step) * step;
}
function roundingQuantum(ms: number): number {
  return ms < 100 ? 0.5 : ms < 1000 ? 5 : ms < 10_000 ? 50 : 500;
}
/** Locust's `calculate_response_time_percentile`: the (floor(p·n)+1)-th smallest rounded response time. */
function locustPercentile(values: number[], p: number): number {
  const sorted = values.map(locustRounded).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.floor(sorted.length * p) + 1) - 1]!;
}

describe(
  'metrics reconciliation: Locust vs StatsD -> Graphite vs Prometheus, on the embedded default',
  { timeout: 240_000 },
  () => {
    let graphite: Graphite;
    let statsd: Statsd;
    let prometheus: Prometheus;
    let gateway: RunningGateway;
    const dir = mkdtempSync(join(tmpdir(), 'sluice-reconcile-'));
    let records: ClientRecord[] = [];
    let locustFinal: any;
    let runStartMs = 0;
    let runEndMs = 0;
    let statsdPort = 0;

    before(async () => {
      statsdPort = await freeUdpPort();
      graphite = await startGraphite();
      gateway = await startGateway(`${REPO_ROOT}config/models.yaml`, {
        env: { STATSD_HOST: '127.0.0.1', STATSD_PORT: String(statsdPort) },
      });
      prometheus = await startPrometheus({ scrapeTargets: [new URL(gateway.url).host], scrapeIntervalS: 1 });
      await prometheus.waitForScrapeAfter(Date.now(), 30_000);

      statsd = await startStatsd({
        graphitePort: graphite.lineReceiverPort,
        flushIntervalMs: FLUSH_MS,
        percentThreshold: PERCENTILES,
        legacyNamespace: false, // as monitoring/statsd/config.js: stats.counters.<key>.count
        port: statsdPort,
      });
      const statsdStartMs = Date.now();
      runStartMs = Date.now();
      const locust = ManagedProcess.start(
        '/usr/bin/python3',
        [
          '-m',
          'locust',
          '-f',
          `${REPO_ROOT}test/metrics/reconcile_locustfile.py`,
          '--host',
          gateway.url,
          '--headless',
          '-u',
          '52',
          '-r',
          '5',
          '-t',
          `${RUN_S}s`,
          '--stop-timeout',
          '15',
          '--csv',
          join(dir, 'locust'),
          '--only-summary',
        ],
        { PYTHONPATH: `${REPO_ROOT}scripts`, RECONCILE_REQUEST_LOG: join(dir, 'requests.jsonl') },
      );
      const { code } = await locust.exited;
      runEndMs = Date.now();
      assert.ok(code === 0 || code === 1, `locust exited ${code}:\n${locust.output.join('\n')}`); // 1: some requests failed
      assert.ok(
        runEndMs + 2_000 < statsdStartMs + FLUSH_MS,
        `the run (${runEndMs - statsdStartMs} ms) must end 2 s before statsd's one flush (${FLUSH_MS} ms): the machine is too slow for this test's timing`,
      );
      records = readFileSync(join(dir, 'requests.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line));
      locustFinal = JSON.parse(readFileSync(join(dir, 'locust_final.json'), 'utf8'));

      await new Promise((resolve) => setTimeout(resolve, 1_500)); // hot-shots' buffer and the gateway's counter batch
      await prometheus.waitForScrapeAfter(Date.now());
      await waitUntilDelivered(statsd, graphite, {
        paths: ['stats.counters.requests.total.count', 'stats.timers.request.latency.upper_99'],
        timeoutMs: FLUSH_MS + 30_000,
      });
    });

    after(async () => {
      await Promise.allSettled([gateway?.stop(), statsd?.stop(), prometheus?.stop()]);
      await graphite?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const count = async (key: string) =>
      seriesSum((await renderSettled(graphite, `stats.counters.${key}.count`, { from: runStartMs - 60_000 }))[0]);
    const timer = async (key: string, stat: string) =>
      seriesValues((await renderSettled(graphite, `stats.timers.${key}.${stat}`, { from: runStartMs - 60_000 }))[0]);

    it("ran the guide's load: both models, at a stated request rate, with some timeouts", (t) => {
      const rate = records.length / ((runEndMs - runStartMs) / 1000);
      t.diagnostic(
        `${records.length} requests in ${((runEndMs - runStartMs) / 1000).toFixed(1)} s = ${rate.toFixed(1)} req/s; ` +
          `${records.filter((r) => !r.ok).length} failed (${[...new Set(records.filter((r) => !r.ok).map((r) => `${r.status} ${r.error_type}`))].join(', ')})`,
      );
      assert.ok(records.length >= 200, `${records.length} requests`);
      for (const model of MODELS)
        assert.ok(
          records.some((r) => modelOf(r) === model && r.status === 200),
          model,
        );
      assert.ok(
        records.some((r) => r.status === 504),
        'some requests timed out',
      );
      assert.equal(locustFinal.total.requests, records.length, "Locust's final stats and its per-request log agree");
    });

    it("requests.total equals Locust's request count exactly", async () => {
      assert.equal(await count('requests.total'), locustFinal.total.requests);
    });

    it('requests.model.<id> equals the requests Locust sent for that model', async () => {
      for (const model of MODELS) {
        assert.equal(await count(`requests.model.${model}`), records.filter((r) => modelOf(r) === model).length, model);
      }
    });

    it('input_tokens / output_tokens equal the sums of the usage the clients received', async () => {
      for (const model of MODELS) {
        const served = records.filter((r) => modelOf(r) === model && r.usage);
        const input = served.reduce((sum, r) => sum + r.usage!.input_tokens, 0);
        const output = served.reduce((sum, r) => sum + r.usage!.output_tokens, 0);
        assert.ok(output > 0);
        assert.equal(await count(`requests.model.${model}.input_tokens`), input, `${model} input`);
        assert.equal(await count(`requests.model.${model}.output_tokens`), output, `${model} output`);
      }
    });

    it('requests.errors.timeout equals the timed-out responses, and every other error type its own count', async () => {
      assert.equal(await count('requests.errors.timeout'), records.filter((r) => r.status === 504).length);
      for (const type of new Set(records.filter((r) => !r.ok).map((r) => r.error_type))) {
        assert.equal(
          await count(`requests.errors.${type}`),
          records.filter((r) => !r.ok && r.error_type === type).length,
          String(type),
        );
      }
    });

    it("request.latency p50/p95/p99 agree with Locust's within 5 % or 10 ms", async (t) => {
      const clientTimes = records.map((r) => r.response_time_ms);
      const exact = statsdTimerStats(clientTimes, PERCENTILES, FLUSH_MS);
      assert.deepEqual(await timer('request.latency', 'count'), [records.length], 'one flush holds every request');
      const lines: string[] = [];
      for (const p of PERCENTILES) {
        const [gateway] = await timer('request.latency', `upper_${p}`);
        const clients = exact[`upper_${p}`]!;
        const locust = locustFinal.total.percentiles_ms[`p${p}`] as number;
        // Locust's figure is its own definition over its rounded samples; recomputed from the clients' log, it must be
        // exactly what Locust printed (that log is Locust's view).
        const locustFromLog = locustPercentile(clientTimes, p / 100);
        lines.push(
          `p${p}: StatsD ${gateway!.toFixed(1)} ms, clients ${clients.toFixed(1)} ms (statsd's definition), Locust ${locust} ms (its definition, rounded)`,
        );
        assert.ok(
          Math.abs(locustFromLog - locust) <= roundingQuantum(locust),
          `p${p}: Locust printed ${locust}, its definition over the log gives ${locustFromLog}`,
        );
        // The gateway's clock against the clients', same requests, same definition: the real agreement.
        assert.ok(near(gateway!, clients), `p${p}: StatsD ${gateway} vs the clients' own ${clients}`);
        // Against Locust's own figure: 5 % or 10 ms beyond what the two definitions differ by on the very same samples
        // (statsd takes the round(p·n)-th smallest value, Locust the (floor(p·n)+1)-th of values rounded to 2 digits).
        const definitions = Math.abs(locustFromLog - clients);
        assert.ok(
          Math.abs(gateway! - locust) <= Math.max(10, 0.05 * locust) + definitions,
          `p${p}: StatsD ${gateway} vs Locust ${locust} (definitions differ by ${definitions.toFixed(1)} ms)`,
        );
      }
      t.diagnostic(lines.join('; '));
    });

    it('Prometheus, scraping /metrics, holds the same counts', async () => {
      const value = async (promql: string) => (await prometheus.query(promql, Date.now()))[0]?.value;
      assert.equal(await value('sum(sluice_requests_total)'), records.length);
      assert.equal(
        await value('sum(sluice_requests_total{outcome="timeout"})'),
        records.filter((r) => r.status === 504).length,
      );
      for (const model of MODELS) {
        assert.equal(
          await value(`sum(sluice_requests_total{model="${model}"})`),
          records.filter((r) => modelOf(r) === model).length,
          model,
        );
        const output = records
          .filter((r) => modelOf(r) === model && r.usage)
          .reduce((sum, r) => sum + r.usage!.output_tokens, 0);
        assert.equal(await value(`sluice_tokens_total{model="${model}",kind="output"}`), output, model);
      }
      assert.equal(await value('sum(sluice_request_duration_seconds_count)'), records.length);
    });

    for (const file of readdirSync(`${REPO_ROOT}monitoring/grafana/dashboards`).filter((f) => f.endsWith('.json'))) {
      it(`dashboard ${file}: valid against Grafana's schema, and every panel query returns data from these servers`, async () => {
        const dashboard = JSON.parse(readFileSync(`${REPO_ROOT}monitoring/grafana/dashboards/${file}`, 'utf8'));
        assert.deepEqual(validateGrafanaDashboard(dashboard), []);
        const usesModel = JSON.stringify(dashboard.panels).includes('$model');
        const empty: string[] = [];
        let queries = 0;
        for (const model of usesModel ? MODELS : ['']) {
          for (const panel of dashboard.panels.filter((p: any) => p.type !== 'row')) {
            for (const target of panel.targets) {
              queries += 1;
              if (target.target !== undefined) {
                const query = target.target.replaceAll('$model', model);
                const series = await graphite.render(query, { from: runStartMs - 60_000, until: Date.now() });
                if (!series.some((s) => seriesValues(s).length > 0)) empty.push(`${panel.title}: ${query}`);
              } else {
                const query = target.expr.replaceAll('$model', model);
                const samples = await prometheus.query(query, runEndMs);
                if (!samples.some((s) => Number.isFinite(s.value))) empty.push(`${panel.title}: ${query}`);
              }
            }
          }
        }
        assert.ok(queries > 10);
        assert.deepEqual(empty, [], 'panel queries without data');
      });
    }
  },
);
