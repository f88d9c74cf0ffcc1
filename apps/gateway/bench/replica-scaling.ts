/**
 * Benchmark (a command, not a test): one model on two local engine replicas against the same model on one, under the
 * performance guide's load (the bench CLI's default: 50 Locust-style users, spawn 5/s, think time 1–3 s). Both
 * gateways run side by side; the legs alternate (one, two, one, two, ...) so that both see the same machine, and
 * each leg is one `sluice-bench run` whose result.json gives its completion rate.
 *
 *   npm run bench:replicas -- [--rounds 2] [--duration 40s] [--warmup 10s] [--model PATH] [--max-concurrent 4]
 *
 * --model is a GGUF file (default: the 30M-parameter random test model, made once under models/generated/, slow
 * enough that one engine is the bottleneck at the guide's load; the 1 MB shipped models are not). Prints each leg's
 * qps, output tokens/s, error rate and e2e p99, then the ratio of two replicas' qps to one's (summed over rounds).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { RunResult } from '#bench/output/result';
import { REPO_ROOT, slowTestModel } from '#test-support/engine';
import { startGateway, waitForModel, writeModelsConfig, type RunningGateway } from '#test-support/gateway';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    duration: { type: 'string', default: '40s' },
    warmup: { type: 'string', default: '10s' },
    model: { type: 'string' },
    'max-concurrent': { type: 'string', default: '4' },
  },
});
const rounds = Number(values.rounds);
const maxConcurrent = Number(values['max-concurrent']);
const modelPath = values.model ?? slowTestModel();

function config(replicas: number): string {
  return writeModelsConfig(`gpus: []
defaults:
  max_concurrent: ${maxConcurrent}
  max_queued: 256
  max_queue_wait_ms: 5000
  max_new_tokens: 256
  default_max_new_tokens: 64
  timeouts: { connect_ms: 2000, first_byte_ms: 30000, inter_token_ms: 10000, total_ms: 60000, startup_ms: 120000 }
models:
  - id: qwen2
    quantization: gguf-q8_0
    replicas: ${replicas}
    backend:
      type: local
      model_path: ${modelPath}
      engine: { contexts: 1, sequences: ${maxConcurrent}, threads: 1, context_size: 1024 }
`);
}

interface Leg {
  replicas: number;
  qps: number;
  tokensPerS: number;
  errorRate: number;
  e2eP99Ms: number;
  valid: boolean;
}

function runLeg(gateway: RunningGateway, replicas: number): Leg {
  const out = mkdtempSync(join(tmpdir(), `sluice-replicas-${replicas}-`));
  const bench = spawnSync(
    process.execPath,
    [
      `${REPO_ROOT}dist/apps/bench/src/main.js`,
      'run',
      '--url',
      gateway.url,
      '--models',
      'qwen2',
      '--duration',
      values.duration,
      '--warmup',
      values.warmup,
      '--quiet',
      '--no-html',
      '--out',
      out,
    ],
    { encoding: 'utf8' },
  );
  // Exit 3 marks a run whose client could not keep up: still read, and shown as not valid.
  if (bench.status !== 0 && bench.status !== 3 && bench.status !== 1)
    throw new Error(`bench run failed (${bench.status}): ${bench.stderr}`);
  const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as RunResult;
  const overall = result.summary.overall;
  return {
    replicas,
    qps: overall.throughput.qps,
    tokensPerS: overall.throughput.output_tokens_per_s,
    errorRate: overall.error_rate,
    e2eP99Ms: overall.latency_ms.e2e.p99 ?? NaN,
    valid: result.validity.valid,
  };
}

const gateways = new Map<number, RunningGateway>();
try {
  for (const replicas of [1, 2]) {
    const gateway = await startGateway(config(replicas), { env: { HEALTH_POLL_MS: '1000' } });
    const allReady = (view: { replicas: Array<{ state: string }> }) => view.replicas.every((r) => r.state === 'ready');
    await waitForModel(gateway.url, 'qwen2', allReady, 120_000);
    gateways.set(replicas, gateway);
  }
  console.log(
    `model ${modelPath}, max_concurrent ${maxConcurrent} per replica, guide load (50 users, 5/s, think 1-3 s), ${values.duration} legs after ${values.warmup} warm-up`,
  );
  const legs: Leg[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const replicas of [1, 2]) {
      const leg = runLeg(gateways.get(replicas)!, replicas);
      legs.push(leg);
      console.log(
        `round ${round}, ${replicas} replica${replicas > 1 ? 's' : ''}: ${leg.qps.toFixed(2)} ok/s, ${leg.tokensPerS.toFixed(1)} output tokens/s, errors ${(leg.errorRate * 100).toFixed(2)} %, e2e p99 ${Math.round(leg.e2eP99Ms)} ms${leg.valid ? '' : ' (client saturated: not valid)'}`,
      );
    }
  }
  const total = (replicas: number, of: (leg: Leg) => number) =>
    legs.filter((leg) => leg.replicas === replicas).reduce((sum, leg) => sum + of(leg), 0);
  console.log(
    `two replicas / one: ${(total(2, (l) => l.qps) / total(1, (l) => l.qps)).toFixed(2)}x ok/s, ${(total(2, (l) => l.tokensPerS) / total(1, (l) => l.tokensPerS)).toFixed(2)}x output tokens/s`,
  );
} finally {
  await Promise.all([...gateways.values()].map((gateway) => gateway.stop()));
}
