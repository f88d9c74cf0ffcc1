import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Distribution } from '../metrics/summarize.js';
import type { LegName } from './overhead-legs.js';
import type { OverheadLeg } from './overhead-report.js';
import { summarizeOverhead } from './overhead-summary.js';

const e2e = (p50: number, p99: number): Distribution => ({
  count: 100,
  min: p50 / 2,
  mean: p50,
  p50,
  p90: p50 * 1.5,
  p95: p50 * 1.8,
  p99,
  p99_9: p99 * 1.2,
  max: p99 * 1.5,
});

const leg = (
  name: LegName,
  phase: OverheadLeg['phase'],
  latency: Distribution,
  qps = 500,
  round?: number,
): OverheadLeg => ({
  leg: name,
  phase,
  ...(round === undefined ? {} : { round }),
  url: 'http://127.0.0.1:1',
  request: 'POST /',
  requests: { total: 100, ok: 100, failed: 0 },
  errors_by_type: {},
  qps,
  e2e_ms: latency,
  ttft_ms: latency,
  validity: {
    valid: true,
    reasons: [],
    event_loop_delay_ms: { p50: 10, p99: 11, max: 12 },
    schedule_lag_ms: { count: 0, p50: null, p99: null, max: null },
    client_cpu_pct: 10,
    thresholds: { max_loop_delay_ms: 50, max_schedule_lag_ms: 50 },
  },
  jsonl: 'requests.jsonl',
});

describe('bench overhead: the chat route beside /v1/generate', () => {
  const direct = e2e(1, 10);
  const gateway = e2e(3, 16);
  const directChat = e2e(1.5, 11);

  it("measures gateway-chat over direct-chat, and the ratio of the two routes' added latency", () => {
    const gatewayChat = e2e(directChat.p50! + 2.1, directChat.p99! + 6.3);
    const r = summarizeOverhead(
      [
        leg('direct', 'fixed_rate', direct),
        leg('gateway', 'fixed_rate', gateway),
        leg('direct-chat', 'fixed_rate', directChat),
        leg('gateway-chat', 'fixed_rate', gatewayChat),
      ],
      { rate: 100 },
    );
    const addedGenerate = gateway.p50! - direct.p50!;
    const addedChat = gatewayChat.p50! - directChat.p50!;
    assert.equal(r.added_latency_ms.gateway!.p50, addedGenerate);
    assert.equal(r.added_latency_ms['gateway-chat']!.p50, Math.round(addedChat * 1000) / 1000);
    assert.equal(r.chat_vs_generate_added!.p50, Math.round((addedChat / addedGenerate) * 1000) / 1000);
    const goal = r.goals.find((g) => g.goal.includes('/v1/chat/completions'))!;
    assert.equal(goal.met, addedChat / addedGenerate <= 1.1);
  });

  it('misses the goal when chat adds more than 10 % over what /v1/generate adds', () => {
    const slowChat = e2e(directChat.p50! + 1.2 * (gateway.p50! - direct.p50!), 30);
    const r = summarizeOverhead(
      [
        leg('direct', 'fixed_rate', direct),
        leg('gateway', 'fixed_rate', gateway),
        leg('direct-chat', 'fixed_rate', directChat),
        leg('gateway-chat', 'fixed_rate', slowChat),
      ],
      { rate: 100 },
    );
    assert.equal(r.goals.find((g) => g.goal.includes('/v1/chat/completions'))!.met, false);
  });

  it('gives no ratio where /v1/generate adds nothing measurable, and says why', () => {
    const r = summarizeOverhead(
      [
        leg('direct', 'fixed_rate', direct),
        leg('gateway', 'fixed_rate', e2e(direct.p50!, 12)),
        leg('direct-chat', 'fixed_rate', directChat),
        leg('gateway-chat', 'fixed_rate', e2e(2, 12)),
      ],
      { rate: 100 },
    );
    assert.equal(r.chat_vs_generate_added!.p50, null);
    assert.equal(r.goals.find((g) => g.goal.includes('/v1/chat/completions'))!.met, null);
    assert.ok(r.notes.some((n) => n.includes('chat/generate')));
  });

  it('leaves the chat goal and ratios out when no chat leg ran, and compares chat saturation when one did', () => {
    const plain = summarizeOverhead([leg('direct', 'fixed_rate', direct), leg('gateway', 'fixed_rate', gateway)], {
      rate: 100,
    });
    assert.equal(plain.chat_vs_generate_added, null);
    assert.equal(
      plain.goals.some((g) => g.goal.includes('chat')),
      false,
    );
    const saturated = summarizeOverhead(
      [
        leg('gateway', 'saturation', gateway, 1000),
        leg('direct-chat', 'saturation', directChat, 4000),
        leg('gateway-chat', 'saturation', gateway, 800),
      ],
      { rate: 100 },
    );
    assert.equal(saturated.ratios['gateway-chat/direct-chat saturation'], 800 / 4000);
    assert.equal(saturated.ratios['gateway-chat/gateway saturation'], 800 / 1000);
  });
});

describe('bench overhead: the gateway against the plain proxy', () => {
  /** One round: direct, proxy and gateway legs at the fixed rate and at saturation, with each server's CPU. */
  const round = (k: number, o: { proxyCpu: number; gatewayCpu: number; proxyQps: number; gatewayQps: number }) => {
    const withCpu = (l: OverheadLeg, process: string, cpu: number): OverheadLeg => ({
      ...l,
      usage: {
        process,
        cpu_ms_per_request: cpu,
        cpu_ms: cpu * 100,
        requests: 100,
        loop_delay_ms: { p50: 1, p99: 2 * k, max: 3 * k, mean: 1 },
        gc: { per_1000_requests: 10, pause_ms_per_request: 0.01, max_pause_ms: 1 },
      },
    });
    return [
      leg('direct', 'fixed_rate', e2e(1, 2), 500, k),
      withCpu(leg('proxy', 'fixed_rate', e2e(1.5, 4), 500, k), 'proxy', o.proxyCpu),
      withCpu(leg('gateway', 'fixed_rate', e2e(2, 6 + k), 500, k), 'gateway', o.gatewayCpu),
      leg('direct', 'saturation', e2e(1, 2), 9000, k),
      withCpu(leg('proxy', 'saturation', e2e(1, 2), o.proxyQps, k), 'proxy', o.proxyCpu / 2),
      withCpu(leg('gateway', 'saturation', e2e(1, 2), o.gatewayQps, k), 'gateway', o.gatewayCpu / 2),
    ];
  };

  it('takes each ratio within a round, reports the median and range over rounds, and judges the medians', () => {
    const r = summarizeOverhead(
      [
        ...round(1, { proxyCpu: 0.4, gatewayCpu: 0.48, proxyQps: 4000, gatewayQps: 2800 }),
        ...round(2, { proxyCpu: 0.8, gatewayCpu: 1.2, proxyQps: 2000, gatewayQps: 1000 }),
        ...round(3, { proxyCpu: 0.5, gatewayCpu: 0.6, proxyQps: 5000, gatewayQps: 3500 }),
      ],
      { rate: 500 },
    );
    const path = r.paths!.find((p) => p.route === '/v1/generate')!;
    // CPU ratios per round 1.2, 1.5, 1.2: the slow round 2 moves both sides and does not decide the median.
    assert.deepEqual(path.cpu_ratio.fixed_rate, { median: 1.2, min: 1.2, max: 1.5 });
    assert.deepEqual(path.saturation_ratio, { median: 0.7, min: 0.5, max: 0.7 });
    // Added p99 over direct: proxy 2 every round; gateway 5, 6, 7 → median 6: 3× the proxy's.
    assert.equal(path.added_p99_ratio, 3);
    assert.deepEqual(path.loop_delay_p99_ms.gateway, { median: 4, min: 2, max: 6 });
    const met = (start: string) => r.goals.find((g) => g.goal.startsWith(start))!.met;
    assert.equal(met('/v1/generate: gateway CPU per request'), true);
    assert.equal(met('/v1/generate: gateway saturation'), true);
    assert.equal(met('/v1/generate: gateway added p99'), false);
  });
});

describe('bench overhead: rounds', () => {
  /** Round k: direct at p50 `d`, gateway `d + g`, direct-chat `d`, gateway-chat `d + c` (p99 ten times each). */
  const round = (k: number, d: number, g: number, c: number, forward = k % 2 === 1): OverheadLeg[] => {
    const legs = [
      leg('direct', 'fixed_rate', e2e(d, 10 * d), 500, k),
      leg('gateway', 'fixed_rate', e2e(d + g, 10 * (d + g)), 480, k),
      leg('direct-chat', 'fixed_rate', e2e(d, 10 * d), 500, k),
      leg('gateway-chat', 'fixed_rate', e2e(d + c, 10 * (d + c)), 470, k),
    ];
    return forward ? legs : legs.reverse();
  };

  it("compares each leg with its direct leg of the same round, not another round's", () => {
    // The machine slows down between rounds (direct 1 ms, then 5 ms): across rounds the gateway would look free.
    const r = summarizeOverhead([...round(1, 1, 2, 2), ...round(2, 5, 2, 2)], { rate: 100 });
    assert.deepEqual(
      r.rounds.map((x) => [x.round, x.added_latency_ms.gateway!.p50]),
      [
        [1, 2],
        [2, 2],
      ],
    );
    assert.deepEqual(r.rounds[1]!.order, ['gateway-chat', 'direct-chat', 'gateway', 'direct']);
  });

  it('reports each figure as the median over rounds with its min and max, and judges the goals on the medians', () => {
    const r = summarizeOverhead([...round(1, 1, 0.5, 0.5), ...round(2, 2, 3, 3.6), ...round(3, 1.5, 0.8, 0.8)], {
      rate: 100,
    });
    // added p50 per round: 0.5, 3, 0.8 → median 0.8; p99 (ten times): 5, 30, 8 → median 8.
    assert.deepEqual(r.over_rounds.added_latency_ms.gateway!.p50, { median: 0.8, min: 0.5, max: 3 });
    assert.equal(r.added_latency_ms.gateway!.p50, 0.8);
    assert.equal(r.added_latency_ms.gateway!.p99, 8);
    assert.deepEqual(r.over_rounds.e2e_ms.direct!.p50, { median: 1.5, min: 1, max: 2 });
    assert.deepEqual(r.over_rounds.qps.gateway, { median: 480, min: 480, max: 480 });
    // chat/generate per round: 1, 1.2, 1 → median 1: met, though one round alone would miss 1.1×.
    assert.deepEqual(r.over_rounds.chat_vs_generate_added!.p50, { median: 1, min: 1, max: 1.2 });
    assert.equal(r.chat_vs_generate_added!.p50, 1);
    assert.equal(r.goals.find((g) => g.goal.includes('/v1/chat/completions'))!.met, true);
  });

  it('misses the chat goal when the median ratio is above 1.1×, however one round went', () => {
    const r = summarizeOverhead([...round(1, 1, 1, 1.5), ...round(2, 1, 1, 1), ...round(3, 1, 1, 1.3)], {
      rate: 100,
    });
    assert.equal(r.chat_vs_generate_added!.p50, 1.3);
    assert.equal(r.goals.find((g) => g.goal.includes('/v1/chat/completions'))!.met, false);
  });

  it('names the rounds where /v1/generate added nothing measurable, and takes the median of the others', () => {
    const r = summarizeOverhead([...round(1, 1, 0, 1), ...round(2, 1, 2, 2.2)], { rate: 100 });
    assert.equal(r.rounds[0]!.chat_vs_generate_added!.p50, null);
    assert.equal(r.chat_vs_generate_added!.p50, 1.1);
    assert.ok(r.notes.some((n) => n.includes('chat/generate ratio at p50 in round 1')));
  });

  it('names the round of a failed fixed-rate leg', () => {
    const failed = { ...leg('gateway', 'fixed_rate', e2e(2, 20), 400, 2), requests: { total: 10, ok: 9, failed: 1 } };
    const r = summarizeOverhead([leg('direct', 'fixed_rate', e2e(1, 10), 500, 2), failed], { rate: 100 });
    assert.ok(r.notes.some((n) => n.startsWith('fixed_rate round 2 gateway: 1 of 10')));
  });
});
