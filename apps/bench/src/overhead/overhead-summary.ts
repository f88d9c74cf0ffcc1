import type { Distribution } from '../metrics/summarize.js';
import { ADDED_OVER, type LegName } from './overhead-legs.js';
import type { OverheadLeg, OverheadResult } from './overhead-report.js';

const GOAL_ADDED_P99_MS = 1;
const GOAL_SATURATION_RATIO = 0.5;
/** The OpenAI route may add at most this much more than `/v1/generate` adds. */
const GOAL_CHAT_OVER_GENERATE = 1.1;

type Percentile = 'p50' | 'p90' | 'p99' | 'p99_9';

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Added latency, ratios, goals and notes from the measured legs. */
export function summarizeOverhead(
  legs: OverheadLeg[],
  o: { rate: number },
): Pick<
  OverheadResult,
  'legs' | 'added_latency_ms' | 'chat_vs_generate_added' | 'saturation_qps' | 'ratios' | 'goals' | 'notes'
> {
  const fixed = (leg: LegName) => legs.find((l) => l.leg === leg && l.phase === 'fixed_rate');
  const added: OverheadResult['added_latency_ms'] = {};
  for (const [leg, base] of Object.entries(ADDED_OVER) as Array<[LegName, LegName]>) {
    const l = fixed(leg);
    const b = fixed(base);
    if (l && b) added[leg] = perPercentile((k) => difference(l.e2e_ms, b.e2e_ms, k));
  }
  const generate = added.gateway;
  const chat = added['gateway-chat'];
  const chatVsGenerate =
    generate && chat
      ? perPercentile((k) => {
          const c = chat[k];
          const g = generate[k];
          return c === null || g === null || g <= 0 ? null : round3(c / g);
        })
      : null;

  const saturation: OverheadResult['saturation_qps'] = {};
  for (const l of legs) if (l.phase === 'saturation') saturation[l.leg] = l.qps;
  const ratio = (a?: number, b?: number) => (a === undefined || b === undefined || b === 0 ? null : round3(a / b));
  const ratios: Record<string, number | null> = {
    'gateway/proxy saturation': ratio(saturation.gateway, saturation.proxy),
    'gateway/direct saturation': ratio(saturation.gateway, saturation.direct),
    'proxy/direct saturation': ratio(saturation.proxy, saturation.direct),
  };
  if (saturation['gateway-chat'] !== undefined) {
    ratios['gateway-chat/direct-chat saturation'] = ratio(saturation['gateway-chat'], saturation['direct-chat']);
    ratios['gateway-chat/gateway saturation'] = ratio(saturation['gateway-chat'], saturation.gateway);
  }

  const notes: string[] = [];
  // A path where nothing succeeded has no saturation to be below (its failures are noted on their own).
  const lowest = Math.min(...Object.values(saturation).filter((qps) => qps > 0));
  if (Number.isFinite(lowest) && o.rate > 0.8 * lowest) {
    notes.push(
      `the fixed rate (${o.rate}/s) is not well below saturation (the slowest path saturated at ${lowest.toFixed(1)}/s): its added latency includes queueing, not only the path's own cost`,
    );
  }
  if (generate && chat && generate.p50 !== null && generate.p50 <= 0)
    notes.push(
      "no chat/generate ratio at p50: /v1/generate's added latency is not above zero there (noise larger than the cost)",
    );
  for (const l of legs.filter((x) => x.requests.failed > 0))
    notes.push(
      `${l.phase} ${l.leg}: ${l.requests.failed} of ${l.requests.total} requests failed (${Object.entries(
        l.errors_by_type,
      )
        .map(([t, n]) => `${t} ${n}`)
        .join(', ')})`,
    );

  const gatewayAddedP99 = added.gateway?.p99 ?? null;
  const proxyRatio = ratios['gateway/proxy saturation'] ?? null;
  const goals: OverheadResult['goals'] = [
    {
      goal: `gateway added p99 ≤ ${GOAL_ADDED_P99_MS} ms at ${o.rate}/s (below saturation)`,
      measured: gatewayAddedP99 === null ? '—' : `${gatewayAddedP99.toFixed(3)} ms`,
      met: gatewayAddedP99 === null ? null : gatewayAddedP99 <= GOAL_ADDED_P99_MS,
    },
    {
      goal: `gateway saturation ≥ ${GOAL_SATURATION_RATIO}× the plain proxy's`,
      measured: proxyRatio === null ? '—' : `${proxyRatio.toFixed(3)}×`,
      met: proxyRatio === null ? null : proxyRatio >= GOAL_SATURATION_RATIO,
    },
  ];
  if (chat) {
    const r = chatVsGenerate?.p50 ?? null;
    goals.push({
      goal: `/v1/chat/completions adds ≤ ${GOAL_CHAT_OVER_GENERATE}× what /v1/generate adds (p50 at ${o.rate}/s)`,
      measured: r === null ? '—' : `${r.toFixed(3)}× (${chat.p50!.toFixed(3)} vs ${generate!.p50!.toFixed(3)} ms)`,
      met: r === null ? null : r <= GOAL_CHAT_OVER_GENERATE,
    });
  }
  return {
    legs,
    added_latency_ms: added,
    chat_vs_generate_added: chatVsGenerate,
    saturation_qps: saturation,
    ratios,
    goals,
    notes,
  };
}

function perPercentile(f: (k: Percentile) => number | null): Record<Percentile, number | null> {
  return { p50: f('p50'), p90: f('p90'), p99: f('p99'), p99_9: f('p99_9') };
}

function difference(a: Distribution, b: Distribution, k: Percentile): number | null {
  const x = a[k];
  const y = b[k];
  return x === null || y === null ? null : round3(x - y);
}
