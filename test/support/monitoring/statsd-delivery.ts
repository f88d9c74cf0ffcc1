import type { Graphite } from './graphite.js';
import { seriesValues } from './graphite.js';
import { pollUntil } from './service-process.js';
import type { Statsd } from './statsd.js';

let lastMarker = 0;

/**
 * Resolves once everything statsd received before this call is readable through Graphite's render API.
 *
 * It sends a marker gauge (a fresh, increasing value) to statsd and waits until render returns it. Over loopback a
 * datagram is queued at the receiving socket by the time its send completes, so statsd reads datagrams in the order
 * they were sent, whichever socket sent them; it flushes everything read so far at once, so every datagram that
 * reached statsd before the marker is in the marker's flush or an earlier one, and carbon takes each flush's lines
 * in order. So: make sure your client has sent its datagrams first (hot-shots buffers: `close()` or wait out its
 * bufferFlushInterval), then call this.
 *
 * One more wait is needed for metrics new to carbon: graphite-web finds a metric by its whisper file, and carbon
 * creates files in its writer thread, after the points are already in its cache. Name in `paths` the metrics
 * (or wildcard targets) you will read: it also waits until each returns a non-null point.
 * Then read with `renderSettled` (graphite.ts), not one plain `render`.
 */
export async function waitUntilDelivered(
  statsd: Statsd,
  graphite: Pick<Graphite, 'render'>,
  options: { paths?: string[]; timeoutMs?: number } = {},
): Promise<void> {
  // Epoch milliseconds: increasing across calls and processes, and exact in a float64 (whisper stores doubles).
  const marker = (lastMarker = Math.max(Date.now(), lastMarker + 1));
  const from = Date.now() - 10 * 60_000;
  // A key per daemon: two statsd daemons flushing one gauge path would overwrite each other's points.
  const markerKey = `sluice_test_harness.delivered_${statsd.port}`;
  await statsd.send(`${markerKey}:${marker}|g`);
  const markerPath = statsd.paths.gauge(markerKey);
  const missing = new Set([markerPath, ...(options.paths ?? [])]);
  await pollUntil(
    async () => {
      for (const path of [...missing]) {
        const values = (await graphite.render(path, { from })).flatMap(seriesValues);
        // A later marker (another caller's) in its place proves as much as ours.
        const arrived = path === markerPath ? values.some((value) => value >= marker) : values.length > 0;
        if (arrived) missing.delete(path);
      }
      return missing.size === 0 ? true : undefined;
    },
    {
      timeoutMs: options.timeoutMs ?? statsd.flushIntervalMs * 2 + 20_000,
      intervalMs: 100,
      describe: () => `not in Graphite yet: ${[...missing].join(', ')} (the marker is ${markerPath} = ${marker})`,
    },
  );
}
