import dgram from 'node:dgram';
import { GatewayMetrics, LastMinute, type RequestRecord } from '../src/index.js';

/**
 * What recording one request's metrics costs the gateway's hot path: StatsD through hot-shots (buffered, real UDP to
 * a local socket that reads every datagram) plus Prometheus, against a baseline loop that records nothing, in the
 * same process and run. Rounds alternate so machine noise hits both sides.
 *
 *   npm run bench:metrics [-- --requests 200000 --rounds 7]
 */
const args = new Map(
  process.argv.slice(2).flatMap((arg, i, all) => (arg.startsWith('--') ? [[arg.slice(2), all[i + 1]]] : [])),
);
const REQUESTS = Number(args.get('requests') ?? 200_000);
const ROUNDS = Number(args.get('rounds') ?? 7);
const BUDGET_US = 20;

const sink = dgram.createSocket('udp4');
let datagrams = 0;
sink.on('message', () => (datagrams += 1));
await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve));
const port = sink.address().port;

const metrics = new GatewayMetrics(
  { host: '127.0.0.1', port, prefix: '', maxBufferBytes: 1400, flushIntervalMs: 1000 },
  { processMetrics: false },
);
const models = ['qwen2', 'llama3'];
const outcomes = ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'timeout'] as const;

/** A realistic mix: both models, 1 in 10 a timeout (no tokens), varying figures so nothing is constant-folded. */
function recordFor(i: number): RequestRecord {
  const outcome = outcomes[i % outcomes.length]!;
  const base: RequestRecord = { modelId: models[i & 1]!, outcome, latencyMs: 200 + (i % 997) * 1.3 };
  if (outcome !== 'ok') return base;
  return {
    ...base,
    inputTokens: 12 + (i % 7),
    outputTokens: 64 + (i % 65),
    queueMs: (i % 13) * 0.7,
    timeToFirstTokenMs: 20 + (i % 31),
    overheadMs: 0.3 + (i % 5) * 0.01,
  };
}

/**
 * Requests come in batches with the event loop turning between them, as in a server: UDP sends complete and the
 * sink reads. Only the synchronous recording time is counted.
 */
const BATCH = 250;
/** Read after the runs, so the baseline's records cannot be optimised away. */
let lastBaselineRecord: RequestRecord | undefined;
async function timed(recordOne: (record: RequestRecord) => void): Promise<number> {
  let total = 0n;
  for (let done = 0; done < REQUESTS; done += BATCH) {
    const start = process.hrtime.bigint();
    for (let i = done; i < done + BATCH; i++) recordOne(recordFor(i));
    total += process.hrtime.bigint() - start;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return Number(total);
}
const withMetrics = () =>
  timed((record) => {
    metrics.requestStarted();
    metrics.requestFinished(record);
  });
const baseline = () => timed((record) => (lastBaselineRecord = record)); // the same records, nothing recorded
/** The console's last-minute window alone: its share of what requestFinished costs. */
const lastMinute = new LastMinute();
const lastMinuteOnly = () => timed((record) => lastMinute.record(record));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
await withMetrics(); // warm-up: JIT, label children, key caches
await baseline();
await lastMinuteOnly();
const measured: number[] = [];
const base: number[] = [];
const windowOnly: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  measured.push(await withMetrics());
  base.push(await baseline());
  windowOnly.push(await lastMinuteOnly());
}
await metrics.close();
await new Promise((resolve) => setTimeout(resolve, 200));
sink.close();

const perRequestNs = (median(measured) - median(base)) / REQUESTS;
console.log(
  `metrics emit cost per request (${REQUESTS} requests x ${ROUNDS} rounds, medians; StatsD via hot-shots over UDP + Prometheus)`,
);
console.log(`  with metrics   ${(median(measured) / REQUESTS / 1000).toFixed(3)} us/request`);
console.log(
  `  baseline       ${(median(base) / REQUESTS / 1000).toFixed(3)} us/request (same records, nothing recorded)`,
);
console.log(
  `  metrics cost   ${(perRequestNs / 1000).toFixed(3)} us/request = ${((perRequestNs / 1000 / BUDGET_US) * 100).toFixed(1)} % of the ${BUDGET_US} us budget`,
);
console.log(
  `  of which the console's last minute ${((median(windowOnly) - median(base)) / REQUESTS / 1000).toFixed(3)} us/request (LastMinute.record alone)`,
);
if (lastBaselineRecord === undefined) throw new Error('the baseline built no records');
console.log(
  `  ratio          ${(median(measured) / median(base)).toFixed(2)}x the baseline loop; ${datagrams} datagrams received`,
);
process.exitCode = perRequestNs / 1000 <= BUDGET_US ? 0 : 1;
