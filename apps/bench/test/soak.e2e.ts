import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startGateway, tgiModelsYaml, writeModelsConfig, type RunningGateway } from '#test-support/gateway';
import { ManagedProcess } from '#test-support/processes';
import { BENCH_MAIN, runBench } from './bench-process.js';

const lenient = ['--max-loop-delay-ms', '100000', '--max-schedule-lag-ms', '100000', '--quiet'];

/** A bench mock-backend with the given extra flags; resolves with its URL once it listens. */
async function startMock(...flags: string[]): Promise<{ mock: ManagedProcess; url: string }> {
  const mock = ManagedProcess.start(process.execPath, [BENCH_MAIN, 'mock-backend', '--port', '0', ...flags]);
  return { mock, url: (await mock.waitForLine(/listening on (http:\/\/\S+)/))[1]! };
}

describe('bench soak', () => {
  let dir: string;
  let mock: ManagedProcess;
  let gateway: RunningGateway;
  let hanging: ManagedProcess;
  let hangingUrl: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-bench-soak-'));
    const started = await startMock('--ttft', '5ms', '--itl', '1ms');
    mock = started.mock;
    gateway = await startGateway(writeModelsConfig(tgiModelsYaml(started.url, { maxConcurrent: 8, maxQueued: 16 })));
    // Answers nothing within the client's timeout: every request goes unanswered.
    ({ mock: hanging, url: hangingUrl } = await startMock('--ttft', '30s'));
  });
  after(async () => {
    await gateway?.stop();
    await mock?.stop();
    await hanging?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('samples the gateway behind which it runs the load, prints the figures and passes', async () => {
    const out = join(dir, 'pass');
    const run = await runBench([
      'soak',
      '--url',
      gateway.url,
      '--gateway-pid',
      String(gateway.process.child.pid),
      '--duration',
      '4s',
      '--warmup',
      '1s',
      '--sample',
      '250ms',
      '--concurrency',
      '2',
      '--models',
      'qwen2',
      '--max-new-tokens',
      '8',
      // A few seconds of a fresh Node process are not a soak: the limit here only lets the figures through.
      '--max-growth',
      '100%',
      '--out',
      out,
      ...lenient,
    ]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^gateway\s+\d+\s+\d+\s+[\d.]+ MiB\s+[\d.]+ MiB\s+[\d.]+ MiB\s+-?[\d.]+ %\s+PASS$/m);
    assert.match(run.stdout, /requests: \d+ sent, \d+ ok, 0 answered with an error, 0 unanswered/);
    assert.match(run.stdout, /verdict: PASS \(exit 0\)/);

    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    assert.equal(result.kind, 'soak');
    assert.equal(result.verdict, 'pass');
    assert.equal(result.exit_code, 0);
    const [p] = result.processes;
    assert.equal(result.processes.length, 1);
    assert.equal(p.name, 'gateway');
    assert.equal(p.pid, gateway.process.child.pid);
    assert.ok(p.samples.length >= 8, `samples ${p.samples.length}`);
    assert.ok(p.baseline_bytes > 10 * 2 ** 20 && p.final_bytes > 10 * 2 ** 20, JSON.stringify(p));
    assert.ok(result.requests.ok > 10 && result.requests.ok === result.requests.total, JSON.stringify(result.requests));
    assert.equal(result.requests.unanswered, 0);
    const lines = readFileSync(join(out, 'requests.jsonl'), 'utf8').trim().split('\n');
    assert.equal(lines.length, result.requests.total);
  });

  it('fails when a request goes unanswered (a client timeout against a backend that never answers)', async () => {
    const out = join(dir, 'unanswered');
    const run = await runBench([
      'soak',
      '--url',
      hangingUrl,
      '--api',
      'tgi',
      '--gateway-pid',
      String(hanging.child.pid),
      '--duration',
      '2s',
      '--warmup',
      '500ms',
      '--sample',
      '250ms',
      '--concurrency',
      '1',
      '--timeout',
      '300ms',
      '--max-growth',
      '100%',
      '--out',
      out,
      ...lenient,
    ]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /requests: (\d+) sent, 0 ok, 0 answered with an error, \1 unanswered/);
    assert.match(run.stdout, /verdict: FAIL \(exit 1\)/);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    assert.equal(result.verdict, 'fail');
    assert.ok(result.requests.unanswered >= 3, JSON.stringify(result.requests));
  });

  it('refuses to start with no process to sample (exit 2)', async () => {
    const run = await runBench(['soak', '--url', hangingUrl, '--api', 'tgi', '--duration', '2s', '--warmup', '0s']);
    assert.equal(run.code, 2, run.stdout + run.stderr);
    assert.match(run.stderr, /no process to sample: give --gateway-pid PID/);
  });
});
