import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCarbonCache, type CarbonCache } from './carbon-cache.js';
import { startGraphiteWeb, type GraphiteSeries, type GraphiteTime, type GraphiteWeb } from './graphite-web.js';
import { removeDir, retryOnPortClash } from './service-process.js';

export type { GraphiteSeries, GraphiteTime } from './graphite-web.js';

export interface Graphite {
  /** Where statsd (graphitePort) or anything speaking carbon's plaintext protocol sends points. */
  lineReceiverPort: number;
  renderUrl: string;
  render: GraphiteWeb['render'];
  carbon: CarbonCache;
  web: GraphiteWeb;
  /** Stops both daemons and deletes every file they wrote. */
  stop(): Promise<void>;
}

export interface GraphiteOptions {
  /**
   * storage-schemas.conf retentions for every metric. Its finest resolution must be no coarser than statsd's
   * flush interval (two flushes in one whisper slot overwrite each other). Default `1s:1d`, for fast test flushes.
   */
  retentions?: string;
}

/** A real Graphite (carbon-cache + graphite-web render API) on free ports, in a temp dir of its own. */
export async function startGraphite(options: GraphiteOptions = {}): Promise<Graphite> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-graphite-'));
  try {
    const carbon = await retryOnPortClash('carbon-cache', () =>
      startCarbonCache(join(dir, 'carbon'), options.retentions ?? '1s:1d'),
    );
    let web: GraphiteWeb;
    try {
      web = await retryOnPortClash('graphite-web', () =>
        startGraphiteWeb(join(dir, 'web'), carbon.whisperDir, carbon.cacheQueryPort),
      );
    } catch (error) {
      await carbon.stop();
      throw error;
    }
    return {
      lineReceiverPort: carbon.lineReceiverPort,
      renderUrl: web.renderUrl,
      render: (target, range) => web.render(target, range),
      carbon,
      web,
      async stop() {
        await Promise.all([web.stop(), carbon.stop()]);
        removeDir(dir);
      },
    };
  } catch (error) {
    removeDir(dir);
    throw error;
  }
}

/** The non-null values of a series, oldest first. */
export function seriesValues(series: GraphiteSeries | undefined): number[] {
  return (series?.datapoints ?? []).map(([value]) => value).filter((value): value is number => value !== null);
}

/** The sum of a series' non-null values: e.g. a statsd count over a time range. */
export function seriesSum(series: GraphiteSeries | undefined): number {
  return seriesValues(series).reduce((sum, value) => sum + value, 0);
}

/**
 * Renders until two answers in a row agree (up to 5 tries), with `until` fixed (default now) so that later flushes
 * cannot change the answer. Why: graphite-web reads a whisper file and then asks carbon's cache, while carbon's
 * writer takes points out of its cache and then writes them to the file; a read that falls between the two misses
 * those points. Rare (milliseconds a flush), but a test asserting exact counts must not depend on it.
 */
export async function renderSettled(
  graphite: Pick<Graphite, 'render'>,
  target: string | string[],
  range: { from?: GraphiteTime; until?: GraphiteTime } = {},
): Promise<GraphiteSeries[]> {
  const fixed = { ...range, until: range.until ?? Date.now() };
  let previous = JSON.stringify(await graphite.render(target, fixed));
  for (let attempt = 1; attempt < 5; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const current = JSON.stringify(await graphite.render(target, fixed));
    if (current === previous) break;
    previous = current;
  }
  return JSON.parse(previous) as GraphiteSeries[];
}
