import { UsageError } from '../cli/usage-error.js';
import { LATENCY_METRICS, type LatencyMetric } from '../metrics/summarize.js';

/**
 * Service-level objectives written on the command line, e.g. `--slo e2e.p99<1.5s --slo qps>=10 --slo errors<1%`.
 *
 *   SLO     := METRIC [ '[' model ']' ] OP NUMBER UNIT
 *   METRIC  := LATENCY '.' STAT | qps | tokens_per_s | errors | errors.<error_type>
 *   LATENCY := e2e | ttft | tpot | itl | server_ttft | queue          STAT := pN (p50, p99, p99.9) | mean | min | max
 *   OP      := < | <= | > | >=
 *   UNIT    := ms | s (latencies: required) ; % (errors: required) ; none or /s (qps, tokens_per_s)
 *
 * `[model]` scopes it to one model's requests: `e2e.p99[qwen2]<1.5s`. qps is successful requests per second,
 * tokens_per_s generated (output) tokens per second, errors the failed fraction of all requests (one type's with
 * errors.<type>). Percentiles are nearest-rank over the run's raw samples.
 */
export type SloOperator = '<' | '<=' | '>' | '>=';
export type SloStat = { percentile: number } | 'mean' | 'min' | 'max';

export type SloMetric =
  | { kind: 'latency'; metric: LatencyMetric; stat: SloStat }
  | { kind: 'qps' }
  | { kind: 'tokens_per_s' }
  | { kind: 'errors'; errorType: string | null };

export interface Slo {
  /** As written. */
  text: string;
  metric: SloMetric;
  model: string | null;
  op: SloOperator;
  /** In canonical units: ms for latencies, per second for rates, a fraction (0..1) for errors. */
  threshold: number;
  /** The unit it was written in, for display: ms, s, %, /s. */
  unit: 'ms' | 's' | '%' | '/s';
}

const GRAMMAR = /^([a-z][a-z0-9_]*)(?:\.([a-z0-9_.]+))?(?:\[([^\]]+)\])?(<=|>=|<|>)(\d+(?:\.\d+)?|\.\d+)(ms|s|%|\/s)?$/;
const HELP = 'write e.g. e2e.p99<1.5s, ttft.p95<300ms, tpot.p50<50ms, qps>=10, errors<1%, e2e.p99[qwen2]<1500ms';

export function parseSlo(text: string): Slo {
  const compact = text.replace(/\s+/g, '');
  const match = GRAMMAR.exec(compact);
  if (!match) throw new UsageError(`--slo "${text}" is not an SLO: ${HELP}`);
  const [, name, sub, model, op, number, unit] = match as unknown as [
    string,
    string,
    string | undefined,
    string | undefined,
    SloOperator,
    string,
    Slo['unit'] | undefined,
  ];
  const value = Number(number);
  const slo = (metric: SloMetric, threshold: number, shownUnit: Slo['unit']): Slo => ({
    text,
    metric,
    model: model ?? null,
    op,
    threshold,
    unit: shownUnit,
  });

  if ((LATENCY_METRICS as readonly string[]).includes(name)) {
    if (sub === undefined)
      throw new UsageError(`--slo "${text}": say which statistic of ${name}, e.g. ${name}.p99 or ${name}.mean`);
    if (unit !== 'ms' && unit !== 's')
      throw new UsageError(`--slo "${text}": a latency needs a unit, ms or s (e.g. ${name}.${sub}<1.5s)`);
    return slo(
      { kind: 'latency', metric: name as LatencyMetric, stat: parseStat(text, sub) },
      unit === 's' ? value * 1000 : value,
      unit,
    );
  }
  if (name === 'qps' || name === 'tokens_per_s') {
    if (sub !== undefined) throw new UsageError(`--slo "${text}": ${name} has no statistics; write ${name}>=10`);
    if (unit !== undefined && unit !== '/s')
      throw new UsageError(`--slo "${text}": ${name} is per second; write it without a unit or with /s`);
    return slo({ kind: name }, value, '/s');
  }
  if (name === 'errors') {
    if (unit !== '%') throw new UsageError(`--slo "${text}": write the error rate in %, e.g. errors<1%`);
    if (value > 100) throw new UsageError(`--slo "${text}": an error rate is at most 100%`);
    return slo({ kind: 'errors', errorType: sub ?? null }, value / 100, '%');
  }
  throw new UsageError(
    `--slo "${text}": unknown metric "${name}" (known: ${[...LATENCY_METRICS, 'qps', 'tokens_per_s', 'errors'].join(', ')}); ${HELP}`,
  );
}

function parseStat(text: string, sub: string): SloStat {
  if (sub === 'mean' || sub === 'min' || sub === 'max') return sub;
  const match = /^p(\d{1,3})(?:[._](\d{1,4}))?$/.exec(sub);
  const p = match ? Number(`${match[1]}.${match[2] ?? '0'}`) : NaN;
  if (!(p > 0 && p <= 100))
    throw new UsageError(`--slo "${text}": "${sub}" is not a statistic; write p50, p90, p99, p99.9, mean, min or max`);
  return { percentile: p };
}

export function compare(measured: number, op: SloOperator, threshold: number): boolean {
  switch (op) {
    case '<':
      return measured < threshold;
    case '<=':
      return measured <= threshold;
    case '>':
      return measured > threshold;
    case '>=':
      return measured >= threshold;
  }
}
