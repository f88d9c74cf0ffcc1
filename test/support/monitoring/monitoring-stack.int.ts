import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { StatsD } from 'hot-shots';
import { Counter, Registry } from 'prom-client';
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
  type GraphiteSeries,
  type Prometheus,
  type Statsd,
} from './index.js';

/**
 * The harness against the real daemons: what a buffered hot-shots client sends reaches Graphite through the Etsy
 * statsd daemon and carbon with exact counts and statsd's own timer statistics, graphite-web evaluates the functions
 * dashboards use, and Prometheus scrapes a prom-client server. statsd flushes every second here (10 s in compose).
 */
const FLUSH_MS = 1000;
const PERCENTILES = [50, 95, 99];
const TIMINGS = [5, 1, 9, 3, 7, 2, 8, 4, 6, 10, 100];
const TIMER_STATS = ['count', 'median', 'upper_50', 'upper_95', 'upper_99', 'mean_95', 'upper', 'lower'];

/** A client configured as the gateway's (libs/metrics): buffered, 1400-byte datagrams, sent at least every second. */
function bufferedClient(port: number): StatsD {
  return new StatsD({
    host: '127.0.0.1',
    port,
    maxBufferSize: 1400,
    bufferFlushInterval: 1000,
    errorHandler: (error) => assert.fail(error),
  });
}
const closed = (client: StatsD) =>
  new Promise<void>((resolve, reject) => client.close((error) => (error ? reject(error) : resolve())));
const byTarget = (series: GraphiteSeries[]) => new Map(series.map((s) => [s.target, s]));

describe('monitoring stack: statsd -> carbon -> graphite-web, and Prometheus (real daemons)', () => {
  let graphite: Graphite;
  let statsd: Statsd;
  let statsdNonLegacy: Statsd;
  let prometheus: Prometheus;
  let metricsServer: http.Server;
  const registry = new Registry();
  const requests = new Counter({
    name: 'sluice_test_requests_total',
    help: 'test requests',
    labelNames: ['model'],
    registers: [registry],
  });

  before(async () => {
    metricsServer = http.createServer((_req, res) => {
      res.setHeader('content-type', registry.contentType);
      void registry.metrics().then((text) => res.end(text));
    });
    await new Promise<void>((resolve) => metricsServer.listen(0, '127.0.0.1', resolve));
    const target = `127.0.0.1:${(metricsServer.address() as AddressInfo).port}`;
    // Prometheus first and in parallel: it applies its targets ~5 s after start.
    [prometheus, graphite] = await Promise.all([
      startPrometheus({ scrapeTargets: [target], scrapeIntervalS: 1 }),
      startGraphite({ retentions: '1s:1d' }),
    ]);
    [statsd, statsdNonLegacy] = await Promise.all([
      startStatsd({
        graphitePort: graphite.lineReceiverPort,
        flushIntervalMs: FLUSH_MS,
        percentThreshold: PERCENTILES,
      }),
      startStatsd({ graphitePort: graphite.lineReceiverPort, flushIntervalMs: FLUSH_MS, legacyNamespace: false }),
    ]);
  });

  after(async () => {
    await Promise.all([statsd?.stop(), statsdNonLegacy?.stop(), graphite?.stop(), prometheus?.stop()]);
    if (metricsServer) await new Promise((resolve) => metricsServer.close(resolve));
  });

  describe('statsd to Graphite, read back through the render API', () => {
    const N = 300;
    let startedAt: number;

    before(async () => {
      startedAt = Date.now();
      const client = bufferedClient(statsd.port);
      // Half the count, then the other half only once the first is in Graphite: two flushes at least, for certain
      // (wall-clock gaps are not enough: statsd skips a flush slot when its timer runs late on a loaded machine).
      for (let i = 0; i < N / 2; i++) client.increment('sluice_test.requests');
      await new Promise<void>((resolve, reject) => client.flush((error) => (error ? reject(error) : resolve())));
      await waitUntilDelivered(statsd, graphite, { paths: ['stats_counts.sluice_test.requests'] });
      for (let i = 0; i < N / 2; i++) client.increment('sluice_test.requests');
      for (let i = 0; i < 3; i++) client.increment('sluice_test.model.qwen2');
      client.increment('sluice_test.model.llama3', 5);
      client.gauge('sluice_test.in_flight', 42);
      client.gauge('sluice_test.in_flight', 17);
      await closed(client);
      // Percentiles are per flush: the timings go in one datagram (a client of their own, 11 short lines), so that
      // one flush has them all.
      const timerClient = bufferedClient(statsd.port);
      for (const ms of TIMINGS) timerClient.timing('sluice_test.latency', ms);
      await closed(timerClient);
      const nonLegacy = bufferedClient(statsdNonLegacy.port);
      for (let i = 0; i < 4; i++) nonLegacy.increment('sluice_test.non_legacy');
      await closed(nonLegacy);

      await Promise.all([
        waitUntilDelivered(statsd, graphite, {
          paths: [
            'stats_counts.sluice_test.requests',
            'stats.sluice_test.requests',
            'stats_counts.sluice_test.model.qwen2',
            'stats_counts.sluice_test.model.llama3',
            ...TIMER_STATS.map((stat) => `stats.timers.sluice_test.latency.${stat}`),
            'stats.gauges.sluice_test.in_flight',
          ],
        }),
        waitUntilDelivered(statsdNonLegacy, graphite, { paths: ['stats.counters.sluice_test.non_legacy.count'] }),
      ]);
    });

    it('a counter incremented N times sums to exactly N in stats_counts.<key>, across flushes', async () => {
      const [series] = await renderSettled(graphite, statsd.paths.counterCount('sluice_test.requests'), {
        from: startedAt - 5000,
      });
      assert.equal(seriesSum(series), N);
      assert.ok(
        seriesValues(series).filter((v) => v > 0).length >= 2,
        `expected the count in two flushes or more: ${JSON.stringify(series?.datapoints)}`,
      );
      // The per-second rate at stats.<key>, over the same flushes, is the same count divided by the flush seconds.
      const [rate] = await renderSettled(graphite, statsd.paths.counterRate('sluice_test.requests'), {
        from: startedAt - 5000,
      });
      assert.equal(seriesSum(rate) * (FLUSH_MS / 1000), N);
    });

    it("timer stats are statsd's: upper_<p> is the round(p% * n)-th smallest value, median the middle one", async () => {
      const read = byTarget(
        await renderSettled(graphite, `aliasByNode(stats.timers.sluice_test.latency.{${TIMER_STATS.join(',')}},4)`, {
          from: startedAt - 5000,
        }),
      );
      const nonNull = (stat: string) => seriesValues(read.get(stat));
      // n = 11 (1..10 and an outlier, 100): round(.95 * 11) = 10 -> the 10th smallest, 10; round(.99 * 11) = 11 -> 100.
      assert.deepEqual(
        {
          count: seriesSum(read.get('count')),
          median: nonNull('median'),
          upper_50: nonNull('upper_50'),
          upper_95: nonNull('upper_95'),
          upper_99: nonNull('upper_99'),
          mean_95: nonNull('mean_95'),
          upper: nonNull('upper'),
          lower: nonNull('lower'),
        },
        {
          count: 11,
          median: [6],
          upper_50: [6],
          upper_95: [10],
          upper_99: [100],
          mean_95: [5.5],
          upper: [100],
          lower: [1],
        },
      );
      // ...which is what the reference model of statsd's arithmetic predicts, for every stat it names.
      const predicted = statsdTimerStats(TIMINGS, PERCENTILES, FLUSH_MS);
      for (const stat of TIMER_STATS) {
        const observed = stat === 'count' ? seriesSum(read.get(stat)) : nonNull(stat)[0];
        assert.equal(observed, predicted[stat], stat);
      }
    });

    it('a gauge reads back as the last value set before the flush', async () => {
      const [series] = await renderSettled(graphite, statsd.paths.gauge('sluice_test.in_flight'), {
        from: startedAt - 5000,
      });
      assert.equal(seriesValues(series).at(-1), 17);
    });

    it('render evaluates wildcards and the functions dashboards use: sumSeries, aliasByNode, integral', async () => {
      const range = { from: startedAt - 5000 };
      const [total] = await renderSettled(graphite, 'sumSeries(stats_counts.sluice_test.model.*)', range);
      assert.equal(seriesSum(total), 8);
      const perModel = await renderSettled(graphite, 'aliasByNode(stats_counts.sluice_test.model.*,3)', range);
      assert.deepEqual(Object.fromEntries(perModel.map((s) => [s.target, seriesSum(s)])), { llama3: 5, qwen2: 3 });
      const [cumulative] = await renderSettled(graphite, 'integral(stats_counts.sluice_test.requests)', range);
      assert.equal(seriesValues(cumulative).at(-1), N);
    });

    it('with legacyNamespace false (monitoring/statsd/config.js) counts land at stats.counters.<key>.count', async () => {
      assert.equal(
        statsdNonLegacy.paths.counterCount('sluice_test.non_legacy'),
        'stats.counters.sluice_test.non_legacy.count',
      );
      const series = await renderSettled(
        graphite,
        ['stats.counters.sluice_test.non_legacy.count', 'stats_counts.sluice_test.non_legacy'],
        { from: startedAt - 5000 },
      );
      assert.deepEqual(
        series.map((s) => [s.target, seriesSum(s)]),
        [['stats.counters.sluice_test.non_legacy.count', 4]],
      );
    });
  });

  it("statsd's waitForFlush waits for a flush that began after the given moment, not the last one before it", async () => {
    const since = Date.now();
    await statsd.waitForFlush(since);
    // statsd reports flush times in whole seconds: the first flush it can vouch for is a second or so later.
    const waited = Date.now() - since;
    assert.ok(waited >= 500 && waited < 10_000, `waited ${waited} ms`);
  });

  describe('Prometheus scraping a prom-client /metrics', () => {
    it('a counter incremented before a scrape reads back through query and queryRange', async () => {
      requests.inc({ model: 'qwen2' }, 4);
      requests.inc({ model: 'llama3' }, 3);
      const countedAt = Date.now();
      const scrapes = await prometheus.waitForScrapeAfter(countedAt);
      assert.deepEqual(
        scrapes.map((s) => s.up),
        [1],
      );

      const [total] = await prometheus.query('sum(sluice_test_requests_total)');
      assert.equal(total?.value, 7);
      const perModel = await prometheus.query(`sluice_test_requests_total{job="${prometheus.job}"}`);
      assert.deepEqual(Object.fromEntries(perModel.map((s) => [s.metric.model, s.value])), { llama3: 3, qwen2: 4 });
      // A range's steps are start + k * step: end it a step past the scrape, or the last step may fall before it.
      const [range] = await prometheus.queryRange(
        'sum(sluice_test_requests_total)',
        countedAt - 10_000,
        scrapes[0]!.scrapedAtMs + 1000,
        1,
      );
      assert.equal(range?.values.at(-1)?.[1], 7);
      await assert.rejects(prometheus.query('sum('), /bad_data/);
    });
  });
});
