import type { Distribution } from '../metrics/summarize.js';
import { ADDED_OVER, type LegName } from './overhead-legs.js';
import type {
  OverheadLeg,
  OverheadResult,
  OverheadRound,
  Percentile,
  Percentiles,
  PercentileSpreads,
} from './overhead-report.js';
import { comparePaths, pathGoals } from './overhead-paths.js';
import { formatSpread, percentileSpreads, round3, spreadOf } from './overhead-rounds.js';

/** The OpenAI route may add at most this much more than `/v1/generate` adds. */
const GOAL_CHAT_OVER_GENERATE = 1.1;

type OverRounds = NonNullable<OverheadResult['over_rounds']>;

/**
 * Added latency, ratios, goals and notes from the measured legs. Each fixed-rate round is compared within itself
 * (a leg against its direct leg of the same round); the figures and the goals are the medians over rounds.
 */
export function summarizeOverhead(
  legs: OverheadLeg[],
  o: { rate: number },
): Pick<
  OverheadResult,
  | 'legs'
  | 'added_latency_ms'
  | 'chat_vs_generate_added'
  | 'rounds'
  | 'over_rounds'
  | 'saturation_qps'
  | 'paths'
  | 'ratios'
  | 'goals'
  | 'notes'
> &
  Required<Pick<OverheadResult, 'rounds' | 'over_rounds'>> {
  const fixedLegs = legs.filter((l) => l.phase === 'fixed_rate');
  const roundNumbers = [...new Set(fixedLegs.map((l) => l.round ?? 1))].sort((a, b) => a - b);
  const rounds = roundNumbers.map((n) => summarizeRound(n, fixedLegs));

  const measured = [...new Set(fixedLegs.map((l) => l.leg))];
  const e2eOver: OverRounds['e2e_ms'] = {};
  const qpsOver: OverRounds['qps'] = {};
  for (const leg of measured) {
    const runs = fixedLegs.filter((l) => l.leg === leg);
    e2eOver[leg] = percentileSpreads((k) => runs.map((l) => l.e2e_ms[k]));
    qpsOver[leg] = spreadOf(runs.map((l) => l.qps));
  }
  const addedOver: OverRounds['added_latency_ms'] = {};
  for (const leg of Object.keys(ADDED_OVER) as LegName[])
    if (rounds.some((r) => r.added_latency_ms[leg]))
      addedOver[leg] = percentileSpreads((k) => rounds.map((r) => r.added_latency_ms[leg]?.[k]));
  const ratioOver = rounds.some((r) => r.chat_vs_generate_added)
    ? percentileSpreads((k) => rounds.map((r) => r.chat_vs_generate_added?.[k]))
    : null;

  const added: OverheadResult['added_latency_ms'] = {};
  for (const [leg, s] of Object.entries(addedOver) as Array<[LegName, PercentileSpreads]>) added[leg] = medians(s);
  const generate = added.gateway;
  const chat = added['gateway-chat'];
  const chatVsGenerate = ratioOver ? medians(ratioOver) : null;

  const saturation: OverheadResult['saturation_qps'] = {};
  for (const leg of new Set(legs.filter((l) => l.phase === 'saturation').map((l) => l.leg))) {
    const median = spreadOf(legs.filter((l) => l.phase === 'saturation' && l.leg === leg).map((l) => l.qps))?.median;
    if (median !== undefined) saturation[leg] = median;
  }
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
  const noRatio = rounds.filter((r) => {
    const g = r.added_latency_ms.gateway?.p50;
    return r.chat_vs_generate_added && g != null && g <= 0;
  });
  if (noRatio.length > 0)
    notes.push(
      `no chat/generate ratio at p50 in ${noRatio.length === rounds.length ? 'any round' : `round ${noRatio.map((r) => r.round).join(', ')}`}: /v1/generate's added latency is not above zero there (noise larger than the cost)`,
    );
  for (const l of legs.filter((x) => x.requests.failed > 0))
    notes.push(
      `${l.phase}${l.round === undefined ? '' : ` round ${l.round}`} ${l.leg}: ${l.requests.failed} of ${l.requests.total} requests failed (${Object.entries(
        l.errors_by_type,
      )
        .map(([t, n]) => `${t} ${n}`)
        .join(', ')})`,
    );

  const n = rounds.length;
  const overRounds = n > 1 ? `, median of ${n} rounds` : '';
  const paths = comparePaths(legs, addedOver);
  const goals: OverheadResult['goals'] = pathGoals(paths, o.rate, n);
  if (chat) {
    const r = chatVsGenerate?.p50 ?? null;
    goals.push({
      goal: `/v1/chat/completions adds ≤ ${GOAL_CHAT_OVER_GENERATE}× what /v1/generate adds (p50 at ${o.rate}/s${overRounds})`,
      measured:
        r === null
          ? '—'
          : `${formatSpread(ratioOver?.p50 ?? null, n, 3, '×')}; added p50${n > 1 ? ' (medians)' : ''} ${chat.p50 === null ? '—' : chat.p50.toFixed(3)} vs ${generate?.p50 == null ? '—' : generate.p50.toFixed(3)} ms`,
      met: r === null ? null : r <= GOAL_CHAT_OVER_GENERATE,
    });
  }
  return {
    legs,
    added_latency_ms: added,
    chat_vs_generate_added: chatVsGenerate,
    rounds,
    over_rounds: {
      e2e_ms: e2eOver,
      qps: qpsOver,
      added_latency_ms: addedOver,
      chat_vs_generate_added: ratioOver,
    },
    saturation_qps: saturation,
    paths,
    ratios,
    goals,
    notes,
  };
}

/** One round's added latency (each leg against its base leg of the same round) and chat/generate ratio. */
function summarizeRound(round: number, fixedLegs: OverheadLeg[]): OverheadRound {
  const inRound = fixedLegs.filter((l) => (l.round ?? 1) === round);
  const find = (leg: LegName) => inRound.find((l) => l.leg === leg);
  const added: OverheadRound['added_latency_ms'] = {};
  for (const [leg, base] of Object.entries(ADDED_OVER) as Array<[LegName, LegName]>) {
    const l = find(leg);
    const b = find(base);
    if (l && b) added[leg] = perPercentile((k) => difference(l.e2e_ms, b.e2e_ms, k));
  }
  const generate = added.gateway;
  const chat = added['gateway-chat'];
  const ratio =
    generate && chat
      ? perPercentile((k) => {
          const c = chat[k];
          const g = generate[k];
          return c === null || g === null || g <= 0 ? null : round3(c / g);
        })
      : null;
  return { round, order: inRound.map((l) => l.leg), added_latency_ms: added, chat_vs_generate_added: ratio };
}

function medians(s: PercentileSpreads): Percentiles {
  return perPercentile((k) => s[k]?.median ?? null);
}

function perPercentile(f: (k: Percentile) => number | null): Percentiles {
  return { p50: f('p50'), p90: f('p90'), p99: f('p99'), p99_9: f('p99_9') };
}

function difference(a: Distribution, b: Distribution, k: Percentile): number | null {
  const x = a[k];
  const y = b[k];
  return x === null || y === null ? null : round3(x - y);
}
