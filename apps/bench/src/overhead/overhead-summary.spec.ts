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

const leg = (name: LegName, phase: OverheadLeg['phase'], latency: Distribution, qps = 500): OverheadLeg => ({
  leg: name,
  phase,
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
    assert.equal(plain.goals.length, 2);
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
