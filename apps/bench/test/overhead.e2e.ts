import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runBench } from './bench-process.js';

describe('bench overhead', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-overhead-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('measures direct, plain proxy, gateway and the chat route in one run, with added latency over alternating rounds, saturation, ratios and CPU per request side by side', async () => {
    const run = await runBench(
      [
        'overhead',
        '--rounds',
        '2',
        '--rate',
        '40',
        '--duration',
        '1s',
        '--saturation-duration',
        '1s',
        '--side-by-side',
        '1s',
        '--warmup',
        '500ms',
        '--concurrency',
        '4',
        '--route',
        'both',
        '--tokens',
        '8',
        '--out',
        dir,
        '--quiet',
        '--max-loop-delay-ms',
        '100000',
        '--max-schedule-lag-ms',
        '100000',
      ],
      120_000,
    );
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /load-test target, not a model/);
    assert.match(run.stdout, /added latency vs direct/);
    assert.match(run.stdout, /gateway\/proxy saturation \d+\.\d+×/);
    const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
    assert.equal(result.schema, 'sluice-bench/1');
    assert.equal(result.kind, 'overhead');
    assert.deepEqual(
      result.legs.map((l: { phase: string; leg: string; round?: number }) => `${l.phase}:${l.round ?? '-'}:${l.leg}`),
      // Saturation and the fixed rate both run in the rounds, the leg order reversed every other round.
      [
        'saturation:1:direct',
        'saturation:1:proxy',
        'saturation:1:gateway',
        'saturation:1:direct-chat',
        'saturation:1:proxy-chat',
        'saturation:1:gateway-chat',
        'fixed_rate:1:direct',
        'fixed_rate:1:proxy',
        'fixed_rate:1:gateway',
        'fixed_rate:1:direct-chat',
        'fixed_rate:1:proxy-chat',
        'fixed_rate:1:gateway-chat',
        'saturation:2:gateway-chat',
        'saturation:2:proxy-chat',
        'saturation:2:direct-chat',
        'saturation:2:gateway',
        'saturation:2:proxy',
        'saturation:2:direct',
        'fixed_rate:2:gateway-chat',
        'fixed_rate:2:proxy-chat',
        'fixed_rate:2:direct-chat',
        'fixed_rate:2:gateway',
        'fixed_rate:2:proxy',
        'fixed_rate:2:direct',
      ],
    );
    for (const leg of result.legs) {
      assert.equal(leg.requests.failed, 0, `${leg.phase} ${leg.leg}: ${JSON.stringify(leg.errors_by_type)}`);
      assert.ok(leg.requests.ok > 0);
    }
    assert.equal(result.legs.find((l: { leg: string }) => l.leg === 'gateway').request, 'POST /v1/generate');
    assert.equal(result.legs.find((l: { leg: string }) => l.leg === 'direct').request, 'POST /generate_stream');
    assert.equal(
      result.legs.find((l: { leg: string }) => l.leg === 'gateway-chat').request,
      'POST /v1/chat/completions',
    );
    assert.ok(result.chat_vs_generate_added !== null && 'p50' in result.chat_vs_generate_added, 'the routes compared');
    for (const key of ['p50', 'p90', 'p99', 'p99_9']) {
      // The added latency is the median of the rounds', each round against its own direct leg.
      const perRound = result.rounds.map((r: { added_latency_ms: { gateway: Record<string, number> } }) => {
        return r.added_latency_ms.gateway[key]!;
      });
      assert.equal(perRound.length, 2);
      const spread = result.over_rounds.added_latency_ms.gateway[key];
      assert.equal(spread.min, Math.min(...perRound));
      assert.equal(spread.max, Math.max(...perRound));
      assert.equal(result.added_latency_ms.gateway[key], spread.median);
    }
    assert.match(run.stdout, /each round, added latency ms:/);
    for (const leg of ['direct', 'proxy', 'gateway', 'direct-chat', 'proxy-chat', 'gateway-chat'])
      assert.ok(result.saturation_qps[leg] > 0, leg);
    assert.equal(typeof result.ratios['gateway/proxy saturation'], 'number');
    // Side by side: each route's proxy and gateway over the same seconds, once per round.
    assert.match(run.stdout, /CPU per request side by side/);
    assert.deepEqual(
      result.side_by_side.map((r: { route: string }) => r.route),
      ['/v1/generate', '/v1/chat/completions'],
    );
    for (const route of result.side_by_side) {
      assert.equal(route.repetitions.length, 2, route.route);
      for (const r of route.repetitions) {
        for (const side of [r.proxy, r.gateway]) {
          assert.ok(side.ok > 0, `${route.route}: ${JSON.stringify(r)}`);
          assert.equal(side.failed, 0, `${route.route}: ${JSON.stringify(r)}`);
          assert.ok(side.cpu_ms > 0);
        }
        const ratio = r.gateway.cpu_ms / r.gateway.ok / (r.proxy.cpu_ms / r.proxy.ok);
        assert.ok(Math.abs(r.ratio - ratio) < 0.01, `${r.ratio} is gateway/proxy CPU per request (${ratio})`);
        // The backend asked straight in the same seconds: each path's added p99 is its p99 over direct's.
        assert.ok(r.direct.ok > 0 && r.direct.failed === 0, `${route.route}: ${JSON.stringify(r.direct)}`);
        for (const side of ['proxy', 'gateway'] as const) {
          const added = r[side].e2e_ms.p99 - r.direct.e2e_ms.p99;
          assert.ok(Math.abs(r.added_p99_ms[side] - added) < 0.002, `${side}: ${JSON.stringify(r)}`);
        }
        if (r.added_p99_ms.proxy > 0)
          assert.ok(Math.abs(r.added_p99_ratio - r.added_p99_ms.gateway / r.added_p99_ms.proxy) < 0.01);
        else assert.equal(r.added_p99_ratio, null);
      }
      const addedRatios = route.repetitions
        .map((r: { added_p99_ratio: number | null }) => r.added_p99_ratio)
        .filter((x: number | null) => x !== null);
      if (addedRatios.length === 0) assert.equal(route.added_p99.ratio, null);
      else {
        assert.equal(route.added_p99.ratio.min, Math.min(...addedRatios));
        assert.equal(route.added_p99.ratio.max, Math.max(...addedRatios));
      }
      const ratios = route.repetitions.map((r: { ratio: number }) => r.ratio);
      assert.equal(route.ratio.min, Math.min(...ratios));
      assert.equal(route.ratio.max, Math.max(...ratios));
    }
    const goals = result.goals.map((goal: { goal: string }) => goal.goal).join('\n');
    for (const route of ['/v1/generate', '/v1/chat/completions'])
      for (const what of ['CPU per request', 'saturation', 'added p99'])
        assert.match(goals, new RegExp(`${route}: gateway ${what}`), `${route} ${what}`);
  });
});
