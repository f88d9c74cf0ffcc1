import type { TgiDetails, TgiGenerateParameters, TgiGenerateRequest, TgiStreamDetails } from '#backends';
import type { RequestSpec } from '../load/workload.js';

/**
 * The two wire protocols the benchmark speaks: the gateway's `POST /v1/generate` (body with `model_id`, answers
 * with `usage` and the gateway's timings) and TGI's `POST /generate` / `POST /generate_stream` (no model id; token
 * counts in `details` or the x-prompt-tokens / x-generated-tokens headers). One place builds the bodies and reads
 * the answers, so every load model and every command counts the same way.
 */
export type TargetApi = 'gateway' | 'tgi';

export interface Target {
  /** Base URL, e.g. http://127.0.0.1:8000 */
  url: string;
  api: TargetApi;
}

export interface Usage {
  input_tokens: number;
  output_tokens: number;
}

export interface ServerTimings {
  latency_ms: number | null;
  queue_ms: number | null;
  ttft_ms: number | null;
}

export function requestPath(api: TargetApi, stream: boolean): string {
  if (api === 'gateway') return '/v1/generate';
  return stream ? '/generate_stream' : '/generate';
}

export function requestBody(api: TargetApi, spec: RequestSpec): string {
  // The gateway's parameters are TGI's, by the same names.
  const parameters: TgiGenerateParameters = { max_new_tokens: spec.maxNewTokens };
  if (spec.temperature !== null) parameters.temperature = spec.temperature;
  if (spec.topP !== null) parameters.top_p = spec.topP;
  if (api === 'gateway') {
    return JSON.stringify({
      model_id: spec.model,
      inputs: spec.inputs,
      scenario: spec.scenario,
      ...(spec.stream ? { stream: true } : {}),
      parameters,
    });
  }
  // What the gateway itself asks of a TGI backend: the stream with details, whose last event has the token counts.
  if (spec.stream) parameters.details = true;
  return JSON.stringify({ inputs: spec.inputs, parameters } satisfies TgiGenerateRequest);
}

/** The usage of a final answer: the gateway's `usage`, else TGI's `details` (stream: input_length; JSON: none). */
export function usageOf(
  answer: Record<string, unknown>,
  headers?: Record<string, string | string[] | undefined>,
): Usage | null {
  const usage = answer.usage as Partial<Usage> | undefined;
  if (usage && typeof usage.output_tokens === 'number')
    return { input_tokens: usage.input_tokens ?? 0, output_tokens: usage.output_tokens };
  const prompt = headerNumber(headers?.['x-prompt-tokens']);
  const generated = headerNumber(headers?.['x-generated-tokens']);
  if (generated !== null) return { input_tokens: prompt ?? 0, output_tokens: generated };
  // TGI's names, values unchecked: the answer is read, not trusted.
  const details = answer.details as
    Partial<Record<keyof TgiDetails | keyof TgiStreamDetails, unknown>> | null | undefined;
  if (details && typeof details.generated_tokens === 'number') {
    const input =
      typeof details.input_length === 'number'
        ? details.input_length
        : Array.isArray(details.prefill)
          ? details.prefill.length
          : 0;
    return { input_tokens: input, output_tokens: details.generated_tokens };
  }
  return null;
}

/** The gateway's own timings; null for a TGI answer. */
export function serverTimingsOf(answer: Record<string, unknown>): ServerTimings | null {
  const number = (v: unknown) => (typeof v === 'number' ? v : null);
  if (answer.latency_ms === undefined && answer.queue_ms === undefined && answer.time_to_first_token_ms === undefined)
    return null;
  return {
    latency_ms: number(answer.latency_ms),
    queue_ms: number(answer.queue_ms),
    ttft_ms: number(answer.time_to_first_token_ms),
  };
}

/** error_type for an HTTP error answer whose body did not say (a proxy's page, an empty body). */
export function errorTypeForStatus(status: number): string {
  switch (status) {
    case 400:
    case 413:
    case 415:
    case 422:
      return 'validation';
    case 404:
      return 'not_found';
    case 424:
      return 'generation';
    case 429:
      return 'overloaded';
    case 500:
      return 'server_error';
    case 502:
      return 'upstream';
    case 503:
      return 'unavailable';
    case 504:
      return 'timeout';
    default:
      return `http_${status}`;
  }
}

function headerNumber(value: string | string[] | undefined): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}
