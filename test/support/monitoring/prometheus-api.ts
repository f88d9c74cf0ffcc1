import { request } from '../http-client.js';

/** One element of an instant vector (a scalar answer comes back as one sample with no labels). */
export interface PrometheusSample {
  metric: Record<string, string>;
  /** Parsed from Prometheus' string form: "NaN", "+Inf" and "-Inf" become NaN and ±Infinity. */
  value: number;
  /** Evaluation time, epoch milliseconds. */
  timestampMs: number;
}

export interface PrometheusRangeSeries {
  metric: Record<string, string>;
  /** [epoch milliseconds, value], oldest first. */
  values: Array<[number, number]>;
}

export interface PrometheusApi {
  /** An instant query (`/api/v1/query`), at `atMs` (default: now). */
  query(promql: string, atMs?: number): Promise<PrometheusSample[]>;
  /** A range query (`/api/v1/query_range`) from `startMs` to `endMs` every `stepS` seconds. */
  queryRange(promql: string, startMs: number, endMs: number, stepS: number): Promise<PrometheusRangeSeries[]>;
}

/** Prometheus' HTTP query API; an error answer (bad PromQL, say) throws with Prometheus' message. */
export function prometheusApi(url: string): PrometheusApi {
  return {
    async query(promql, atMs) {
      const params = new URLSearchParams({ query: promql });
      if (atMs !== undefined) params.set('time', String(atMs / 1000));
      const data = await call(url, 'query', params);
      if (data.resultType === 'scalar' || data.resultType === 'string') {
        const [ts, value] = data.result as [number, string];
        return [{ metric: {}, value: promValue(value), timestampMs: ts * 1000 }];
      }
      if (data.resultType !== 'vector') throw new Error(`instant query ${promql} gave a ${data.resultType}`);
      return (data.result as Array<{ metric: Record<string, string>; value: [number, string] }>).map((r) => ({
        metric: r.metric,
        value: promValue(r.value[1]),
        timestampMs: r.value[0] * 1000,
      }));
    },
    async queryRange(promql, startMs, endMs, stepS) {
      const params = new URLSearchParams({
        query: promql,
        start: String(startMs / 1000),
        end: String(endMs / 1000),
        step: String(stepS),
      });
      const data = await call(url, 'query_range', params);
      return (data.result as Array<{ metric: Record<string, string>; values: Array<[number, string]> }>).map((r) => ({
        metric: r.metric,
        values: r.values.map(([ts, value]) => [ts * 1000, promValue(value)] as [number, number]),
      }));
    },
  };
}

async function call(
  url: string,
  endpoint: string,
  params: URLSearchParams,
): Promise<{ resultType: string; result: unknown }> {
  const response = await request(`${url}/api/v1/${endpoint}?${params.toString()}`);
  const body = JSON.parse(response.text) as {
    status: string;
    data?: { resultType: string; result: unknown };
    error?: string;
    errorType?: string;
  };
  if (body.status !== 'success' || !body.data) {
    throw new Error(
      `prometheus ${endpoint} ${params.get('query')}: ${response.status} ${body.errorType ?? ''} ${body.error ?? response.text}`,
    );
  }
  return body.data;
}

/** Prometheus writes sample values as strings, infinities as "+Inf"/"-Inf" (which Number() would make NaN). */
function promValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}
