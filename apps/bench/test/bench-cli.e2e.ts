import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManagedProcess } from '#test-support/processes';
import { BENCH_MAIN, runBench } from './bench-process.js';

/** Nearest-rank, written again here on purpose: the JSONL must reproduce the JSON without the bench's own code. */
function nearestRank(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length - 1e-9)) - 1]!;
}
const round3 = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);
const lenient = ['--max-loop-delay-ms', '100000', '--max-schedule-lag-ms', '100000', '--quiet'];

describe('bench CLI against bench mock-backend', () => {
  let mock: ManagedProcess;
  let mockUrl: string;
  let dir: string;
  /** The bench's target options for the mock, speaking `api`. */
  const mockTarget = (api: 'tgi' | 'openai') => ['--url', mockUrl, '--api', api];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-bench-cli-'));
    mock = ManagedProcess.start(process.execPath, [
      BENCH_MAIN,
      'mock-backend',
      '--port',
      '0',
      '--ttft',
      '5ms',
      '--itl',
      '1ms',
      '--jitter',
      '1ms',
    ]);
    mockUrl = (await mock.waitForLine(/listening on (http:\/\/\S+)/))[1]!;
  });
  after(async () => {
    await mock?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the mock says plainly that it is a load-test target, not a model', () => {
    assert.ok(
      mock.output.some((l) => l.includes('THIS IS A LOAD-TEST TARGET, NOT A MODEL')),
      mock.output.join('\n'),
    );
  });

  it('exits 0 when every SLO holds, and its JSON agrees with its JSONL', async () => {
    const out = join(dir, 'pass');
    const run = await runBench([
      'run',
      ...mockTarget('tgi'),
      '--rate',
      '30',
      '--duration',
      '2s',
      '--stream',
      '--max-new-tokens',
      '8,16',
      '--models',
      'qwen2:1,llama3:1',
      '--slo',
      'e2e.p99<5s',
      '--slo',
      'errors<1%',
      '--slo',
      'qps>=1',
      '--slo',
      'ttft.p95<2s',
      '--out',
      out,
      ...lenient,
    ]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /e2e\.p99<5s\s+\S+ s\s+PASS/);
    assert.match(run.stdout, /verdict: PASS \(exit 0\)/);

    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    const lines = readFileSync(join(out, 'requests.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(result.schema, 'sluice-bench/1');
    assert.equal(result.kind, 'run');
    assert.equal(result.exit_code, 0);
    assert.equal(result.verdict, 'pass');
    const o = result.summary.overall;
    assert.equal(lines.length, o.requests.total);
    assert.ok(o.requests.total >= 40, `requests ${o.requests.total}`);
    assert.equal(lines.filter((r) => r.ok).length, o.requests.ok);
    for (const r of lines) {
      for (const key of [
        'intended_ms',
        'sent_ms',
        'first_token_ms',
        'token_ms',
        'end_ms',
        'status',
        'error_type',
        'model',
        'usage',
      ])
        assert.ok(key in r, key);
    }
    const ok = lines.filter((r) => r.ok);
    const e2e = ok.map((r) => r.end_ms - r.intended_ms);
    for (const [p, key] of [
      [50, 'p50'],
      [90, 'p90'],
      [95, 'p95'],
      [99, 'p99'],
      [99.9, 'p99_9'],
      [100, 'max'],
    ] as const) {
      assert.equal(o.latency_ms.e2e[key], round3(nearestRank(e2e, p)), `e2e ${key}`);
    }
    const ttft = ok.map((r) => r.first_token_ms - r.intended_ms);
    assert.equal(o.latency_ms.ttft.p99, round3(nearestRank(ttft, 99)));
    const tpot = ok
      .filter((r) => r.usage.output_tokens > 1)
      .map((r) => (r.token_ms.at(-1) - r.token_ms[0]) / (r.usage.output_tokens - 1));
    assert.equal(o.latency_ms.tpot.p50, round3(nearestRank(tpot, 50)));
    const itl = ok.flatMap((r) => r.token_ms.slice(1).map((t: number, i: number) => t - r.token_ms[i]));
    assert.equal(o.latency_ms.itl.count, itl.length);
    assert.equal(o.latency_ms.itl.p99, round3(nearestRank(itl, 99)));
    assert.equal(
      o.tokens.output,
      ok.reduce((s, r) => s + r.usage.output_tokens, 0),
    );
    const { start_ms: start, stop_ms: stop } = result.window;
    const inWindow = ok.filter((r) => r.end_ms >= start && r.end_ms <= stop);
    assert.equal(o.duration_s, round3((stop - start) / 1000));
    assert.equal(o.throughput.qps, round3(inWindow.length / ((stop - start) / 1000)));
    for (const model of ['qwen2', 'llama3']) {
      assert.equal(
        result.summary.per_model[model].requests.total,
        lines.filter((r) => r.model === model).length,
        model,
      );
    }
    assert.equal(result.files.jsonl, join(out, 'requests.jsonl'));
  });

  it('exits 1 when an SLO fails, and prints the FAIL', async () => {
    const run = await runBench([
      'run',
      ...mockTarget('tgi'),
      '--rate',
      '20',
      '--duration',
      '1s',
      '--slo',
      'e2e.p50<1ms',
      '--slo',
      'errors<1%',
      '--out',
      join(dir, 'fail'),
      ...lenient,
    ]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /e2e\.p50<1ms\s+\S+ ms\s+FAIL/);
    assert.match(run.stdout, /errors<1%\s+0\.00 %\s+PASS/);
    assert.equal(JSON.parse(readFileSync(join(dir, 'fail', 'result.json'), 'utf8')).verdict, 'fail');
  });

  it('runs --api openai against the chat route: streamed to [DONE], tokens and usage counted', async () => {
    const out = join(dir, 'openai');
    const run = await runBench([
      'run',
      ...mockTarget('openai'),
      '--rate',
      '20',
      '--duration',
      '1s',
      '--stream',
      '--max-new-tokens',
      '8',
      '--slo',
      'errors<1%',
      '--slo',
      'ttft.p99<2s',
      '--out',
      out,
      ...lenient,
    ]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    assert.deepEqual([result.target.api, result.target.path], ['openai', '/v1/chat/completions']);
    const lines = readFileSync(join(out, 'requests.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(lines.length >= 15 && lines.every((r) => r.ok));
    assert.ok(lines.every((r) => r.usage.output_tokens === 8 && r.token_ms.length === 8));
    assert.equal(result.summary.overall.tokens.output, 8 * lines.length);
  });

  it('overhead runs the chat route straight at the backend beside /generate_stream, in rounds that alternate the legs', async () => {
    const out = join(dir, 'overhead-chat');
    const run = await runBench(
      [
        'overhead',
        '--backend',
        mockUrl,
        '--legs',
        'direct,direct-chat',
        '--rounds',
        '2',
        '--rate',
        '50',
        '--duration',
        '1s',
        '--saturation-duration',
        '1s',
        '--concurrency',
        '4',
        '--warmup',
        '200ms',
        '--tokens',
        '4',
        '--no-html',
        '--out',
        out,
        ...lenient,
      ],
      120_000,
    );
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /direct-chat and proxy-chat: the backend's POST \/v1\/chat\/completions/);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    const chat = result.legs.filter((l: { leg: string }) => l.leg === 'direct-chat');
    assert.deepEqual(
      chat.map((l: { phase: string; request: string }) => [l.phase, l.request]),
      [
        ['saturation', 'POST /v1/chat/completions'],
        ['fixed_rate', 'POST /v1/chat/completions'],
        ['saturation', 'POST /v1/chat/completions'],
        ['fixed_rate', 'POST /v1/chat/completions'],
      ],
    );
    assert.ok(
      chat.every((l: { requests: { ok: number; failed: number } }) => l.requests.ok > 0 && l.requests.failed === 0),
    );
    assert.equal(result.chat_vs_generate_added, null, 'no gateway legs: no ratio');
    // Saturation and the fixed rate in each of two rounds, the second in the reversed order.
    assert.equal(result.settings.rounds, 2);
    assert.deepEqual(
      result.legs.map((l: { phase: string; round?: number; leg: string }) => `${l.phase}:${l.round ?? '-'}:${l.leg}`),
      [
        'saturation:1:direct',
        'saturation:1:direct-chat',
        'fixed_rate:1:direct',
        'fixed_rate:1:direct-chat',
        'saturation:2:direct-chat',
        'saturation:2:direct',
        'fixed_rate:2:direct-chat',
        'fixed_rate:2:direct',
      ],
    );
    assert.deepEqual(
      result.rounds.map((r: { order: string[] }) => r.order),
      [
        ['direct', 'direct-chat'],
        ['direct-chat', 'direct'],
      ],
    );
    // Each figure over rounds is the median of the two rounds, between their min and max.
    const runs = result.legs.filter(
      (l: { leg: string; phase: string }) => l.leg === 'direct' && l.phase === 'fixed_rate',
    );
    const p50s = runs.map((l: { e2e_ms: { p50: number } }) => l.e2e_ms.p50);
    const spread = result.over_rounds.e2e_ms.direct.p50;
    assert.equal(spread.min, Math.round(Math.min(...p50s) * 1000) / 1000);
    assert.equal(spread.max, Math.round(Math.max(...p50s) * 1000) / 1000);
    assert.ok(Math.abs(spread.median - (p50s[0] + p50s[1]) / 2) < 0.001);
    assert.match(run.stdout, /e2e ms, median over 2 rounds \(min–max\)/);
    for (const r of [1, 2])
      for (const leg of ['direct', 'direct-chat'])
        assert.ok(existsSync(join(out, `requests-fixed_rate-round${r}-${leg}.jsonl`)), `round ${r} ${leg}`);
  });

  it('exits 2 on a usage error, saying what to write', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['run', '--slo', 'e2e.p99<1.5'], /a latency needs a unit/],
      [['run', '--slo', 'latency<1s'], /unknown metric/],
      [['run', '--frobnicate'], /Unknown option '--frobnicate'/],
      [['run', '--rate', '5', '--users', '3'], /choose one load model/],
      [['run', '--rate', 'fast'], /--rate "fast" is not valid/],
      [['explode'], /unknown command "explode"/],
      [['sweep', '--rates', '1,2'], /sweep needs at least one --slo/],
      [['compare', join(dir, 'missing.json'), join(dir, 'missing.json')], /cannot read/],
    ];
    for (const [args, message] of cases) {
      const run = await runBench(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
  });

  it('exits 3 when the client could not keep to its schedule (saturated), and marks the result invalid', async () => {
    const out = join(dir, 'invalid');
    const run = await runBench([
      'run',
      ...mockTarget('tgi'),
      '--rate',
      '50',
      '--duration',
      '1s',
      '--max-schedule-lag-ms',
      '0',
      '--slo',
      'errors<1%',
      '--out',
      out,
      '--quiet',
    ]);
    assert.equal(run.code, 3, run.stdout + run.stderr);
    assert.match(run.stdout, /INVALID/);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    assert.equal(result.verdict, 'invalid');
    assert.equal(result.validity.valid, false);
    assert.match(result.validity.reasons.join(), /client saturated: schedule lag p99 .* > 0 ms/);
  });

  it('exits 3 when nothing succeeded: there is nothing to measure', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const run = await runBench([
      'run',
      '--url',
      `http://127.0.0.1:${port}`,
      '--rate',
      '10',
      '--arrivals',
      'constant',
      '--duration',
      '500ms',
      '--out',
      join(dir, 'refused'),
      ...lenient,
    ]);
    assert.equal(run.code, 3, run.stdout + run.stderr);
    assert.match(run.stdout, /no request succeeded/);
    assert.match(run.stdout, /errors: network 5/);
  });

  it('runs Locust-style users and staged concurrency', async () => {
    const users = await runBench([
      'run',
      ...mockTarget('tgi'),
      '--users',
      '4',
      '--spawn-rate',
      '20',
      '--think-time',
      '0.05-0.1',
      '--duration',
      '1s',
      '--out',
      join(dir, 'users'),
      ...lenient,
    ]);
    assert.equal(users.code, 0, users.stdout + users.stderr);
    const u = JSON.parse(readFileSync(join(dir, 'users', 'result.json'), 'utf8'));
    assert.equal(u.load.peak_users, 4);
    assert.ok(u.summary.overall.requests.ok >= 10);
    const staged = await runBench([
      'run',
      ...mockTarget('tgi'),
      '--concurrency',
      '0',
      '--stages',
      '300ms:4,500ms:4',
      '--out',
      join(dir, 'staged'),
      ...lenient,
    ]);
    assert.equal(staged.code, 0, staged.stdout + staged.stderr);
    assert.equal(JSON.parse(readFileSync(join(dir, 'staged', 'result.json'), 'utf8')).load.peak_users, 4);
  });

  it('compares two results side by side with differences and ratios', async () => {
    const run = await runBench(['compare', join(dir, 'pass', 'result.json'), join(dir, 'fail', 'result.json')]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /B − A\s+B \/ A/);
    assert.match(run.stdout, /e2e p99 \(ms\)/);
    assert.match(run.stdout, /model qwen2/);
  });

  it('finds the goodput of a sweep, and exits 1 when no rate meets the SLOs', async () => {
    const good = await runBench([
      'sweep',
      ...mockTarget('tgi'),
      '--rates',
      '5,15',
      '--duration',
      '1s',
      '--cooldown',
      '0s',
      '--slo',
      'errors<1%',
      '--out',
      join(dir, 'sweep'),
      ...lenient,
    ]);
    assert.equal(good.code, 0, good.stdout + good.stderr);
    assert.match(good.stdout, /goodput: 15 req\/s offered/);
    const result = JSON.parse(readFileSync(join(dir, 'sweep', 'result.json'), 'utf8'));
    assert.deepEqual(
      result.steps.map((s: { rate: number }) => s.rate),
      [5, 15],
    );
    assert.equal(result.goodput.rate, 15);
    const none = await runBench([
      'sweep',
      ...mockTarget('tgi'),
      '--bisect',
      '5:20',
      '--duration',
      '500ms',
      '--slo',
      'e2e.p50<0.5ms',
      '--cooldown',
      '0s',
      '--out',
      join(dir, 'sweep-none'),
      ...lenient,
    ]);
    assert.equal(none.code, 1, none.stdout + none.stderr);
    assert.match(none.stdout, /goodput: none/);
  });
});
