import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ManagedProcess } from '../processes.js';
import { freeTcpPort } from '#backends/testing';
import { startService } from './service-process.js';

/** Debian's graphite-carbon; the script runs under /usr/bin/python3, which sees Debian's Python packages. */
const CARBON_CACHE = '/usr/bin/carbon-cache';

export interface CarbonCache {
  /** Carbon's plaintext protocol (`<path> <value> <unix seconds>\n`): what statsd's graphite backend writes to. */
  lineReceiverPort: number;
  pickleReceiverPort: number;
  /** Where graphite-web asks for points still in carbon's cache (CARBONLINK_HOSTS). */
  cacheQueryPort: number;
  whisperDir: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * carbon-cache in the foreground with its config, whisper files, pidfile and logs all under `dir`.
 * `retentions` is storage-schemas.conf syntax for every metric, e.g. `1s:1d` or `10s:1d,1m:30d`.
 */
export async function startCarbonCache(dir: string, retentions: string): Promise<CarbonCache> {
  const confDir = join(dir, 'conf');
  const storageDir = join(dir, 'storage');
  const whisperDir = join(storageDir, 'whisper');
  mkdirSync(confDir, { recursive: true });
  mkdirSync(whisperDir, { recursive: true });
  writeFileSync(join(confDir, 'storage-schemas.conf'), storageSchemas(retentions));
  writeFileSync(join(confDir, 'storage-aggregation.conf'), STORAGE_AGGREGATION);

  const ports = { line: await freeTcpPort(), pickle: await freeTcpPort(), cacheQuery: await freeTcpPort() };
  const config = join(confDir, 'carbon.conf');
  writeFileSync(config, carbonConf(storageDir, whisperDir, ports));
  // --debug: foreground, log to stdout (carbon's CONF_DIR is the folder of --config, so the two .conf files above
  // are the ones it reads).
  const carbon = startService(
    CARBON_CACHE,
    [`--config=${config}`, `--pidfile=${join(storageDir, 'carbon-cache.pid')}`, '--debug', 'start'],
    {
      PYTHONUNBUFFERED: '1',
      PYTHONWARNINGS: 'ignore', // twisted's CryptographyDeprecationWarnings, at every start
    },
    'apt-get install graphite-carbon',
  );
  try {
    await Promise.all(
      Object.values(ports).map((port) => carbon.waitForLine(new RegExp(`[Ff]actory starting on ${port}\\b`), 30_000)),
    );
  } catch (error) {
    await carbon.stop();
    throw error;
  }
  return {
    lineReceiverPort: ports.line,
    pickleReceiverPort: ports.pickle,
    cacheQueryPort: ports.cacheQuery,
    whisperDir,
    process: carbon,
    stop: () => carbon.stop(),
  };
}

function carbonConf(
  storageDir: string,
  whisperDir: string,
  ports: { line: number; pickle: number; cacheQuery: number },
): string {
  return `[cache]
STORAGE_DIR = ${storageDir}
LOCAL_DATA_DIR = ${whisperDir}
LOG_DIR = ${join(storageDir, 'log')}
PID_DIR = ${storageDir}
DATABASE = whisper
# Empty: stay the user who runs the tests (Debian's default switches to _graphite, which needs root).
USER =
ENABLE_LOGROTATION = False
MAX_CACHE_SIZE = inf
# The defaults (50 creates a minute, 500 updates a second) drop new metrics silently: a statsd timer alone is ~20.
MAX_CREATES_PER_MINUTE = inf
MAX_UPDATES_PER_SECOND = inf
# Whisper preallocates every file; sparse files make creating hundreds of them cheap.
WHISPER_SPARSE_CREATE = True
WHISPER_FALLOCATE_CREATE = False
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = ${ports.line}
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = ${ports.pickle}
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = ${ports.cacheQuery}
ENABLE_UDP_LISTENER = False
ENABLE_MANHOLE = False
# On by default, it POSTs every new metric to a graphite-web at GRAPHITE_URL (127.0.0.1:80): not ours, not wanted.
ENABLE_TAGS = False
# carbon's own carbon.agents.* metrics: noise here.
CARBON_METRIC_INTERVAL = 0
# statsd opens a connection per flush, and graphite-web one per cache query: keep the log readable.
LOG_LISTENER_CONN_SUCCESS = False
LOG_CACHE_HITS = False
LOG_UPDATES = False
LOG_CREATES = False
`;
}

function storageSchemas(retentions: string): string {
  return `# One resolution for everything. The finest archive must be no coarser than statsd's flushInterval: whisper keeps
# one value per slot, so two flushes landing in one slot would overwrite each other (counts lost, not summed).
[everything]
pattern = .*
retentions = ${retentions}
`;
}

/**
 * How whisper rolls a fine archive into a coarser one, for what statsd writes (first match wins). It only matters
 * when `retentions` has more than one archive, but then it decides whether a count survives a rollup: the default
 * (average) would turn 10 requests in a minute into ~0.17.
 */
const STORAGE_AGGREGATION = `[gauges]
pattern = ^stats\\.gauges\\.
xFilesFactor = 0
aggregationMethod = last

# Counts: stats_counts.<key> (legacy namespace), stats.counters.<key>.count, timers' count, count_<pct>, sum,
# sum_<pct>, sum_squares, and histogram bins.
[counts]
pattern = (^stats_counts\\.|\\.count$|\\.count_\\d+(_\\d+)?$|\\.sum$|\\.sum_\\d+(_\\d+)?$|\\.sum_squares(_\\d+(_\\d+)?)?$|\\.histogram\\.bin_)
xFilesFactor = 0
aggregationMethod = sum

[upper]
pattern = \\.upper(_\\d+(_\\d+)?)?$
xFilesFactor = 0
aggregationMethod = max

[lower]
pattern = \\.lower(_\\d+(_\\d+)?)?$
xFilesFactor = 0
aggregationMethod = min

# Rates (stats.<key>, .rate, .count_ps), means, medians and std: an average is the best a rollup can do.
[default]
pattern = .*
xFilesFactor = 0
aggregationMethod = average
`;
