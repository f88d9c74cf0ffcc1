import type {
  OpenAiChatRequest,
  OpenAiCompletionRequest,
  TgiDetails,
  TgiGenerateParameters,
  TgiGenerateRequest,
  TgiStreamDetails,
} from '#backends';
import type { RequestSpec } from '../load/workload.js';

/**
 * The wire protocols the benchmark speaks: the gateway's `POST /v1/generate` (body with `model_id`, answers with
 * `usage` and the gateway's timings), TGI's `POST /generate` / `POST /generate_stream` (no model id; token counts in
 * `details` or the x-prompt-tokens / x-generated-tokens headers), and OpenAI's `POST /v1/chat/completions` and
 * `POST /v1/completions` (usage in `usage`, streamed in its own last chunk; errors as `{"error": {...}}`; the stream
 * ends with `[DONE]`). One place builds the bodies and reads the answers, so every load model and every command
 * counts the same way.
 */
export type TargetApi = 'gateway' | 'tgi' | 'openai' | 'openai-completions';

/** Each protocol and what it sends, for flags, help and usage errors. */
export const TARGET_APIS: Record<TargetApi, string> = {
  gateway: 'POST /v1/generate',
  tgi: 'POST /generate, /generate_stream',
  openai: 'POST /v1/chat/completions',
  'openai-completions': 'POST /v1/completions',
};

export function isTargetApi(value: string): value is TargetApi {
  return Object.hasOwn(TARGET_APIS, value);
}

export interface Target {
  /** Base URL, e.g. http://127.0.0.1:8000 */
  url: string;
  api: TargetApi;
  /**
   * OpenAI protocols: the `model` sent instead of each request's. TGI's own `/v1/*` routes read any name but
   * `"tgi"` as a LoRA adapter, so a TGI backend is asked as the gateway asks it.
   */
  wireModel?: string;
  /** Sent as `Authorization: Bearer` to a gateway with API keys (SLUICE_API_KEY); never written to a report. */
  apiKey?: string;
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
  switch (api) {
    case 'gateway':
      return '/v1/generate';
    case 'tgi':
      return stream ? '/generate_stream' : '/generate';
    case 'openai':
      return '/v1/chat/completions';
    case 'openai-completions':
      return '/v1/completions';
  }
}

export function requestBody(target: Pick<Target, 'api' | 'wireModel'>, spec: RequestSpec): string {
  const { api } = target;
  if (api === 'openai' || api === 'openai-completions') return openAiBody(api, target.wireModel ?? spec.model, spec);
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

/** As LangChain and the openai SDK send it: `max_tokens`, and usage asked for whenever the answer streams. */
function openAiBody(api: 'openai' | 'openai-completions', model: string, spec: RequestSpec): string {
  const sampling = {
    max_tokens: spec.maxNewTokens,
    ...(spec.temperature !== null ? { temperature: spec.temperature } : {}),
    ...(spec.topP !== null ? { top_p: spec.topP } : {}),
    ...(spec.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  };
  if (api === 'openai') {
    const body: OpenAiChatRequest = { model, messages: [{ role: 'user', content: spec.inputs }], ...sampling };
    return JSON.stringify(body);
  }
  const body: OpenAiCompletionRequest = { model, prompt: spec.inputs, ...sampling };
  return JSON.stringify(body);
}

/**
 * The usage of a final answer: the gateway's `usage`, OpenAI's (`prompt_tokens` / `completion_tokens`), else TGI's
 * `details` (stream: input_length; JSON: none) or its accounting headers.
 */
export function usageOf(
  answer: Record<string, unknown>,
  headers?: Record<string, string | string[] | undefined>,
): Usage | null {
  const usage = answer.usage as Partial<Usage & Record<'prompt_tokens' | 'completion_tokens', unknown>> | undefined;
  if (usage && typeof usage.output_tokens === 'number')
    return { input_tokens: usage.input_tokens ?? 0, output_tokens: usage.output_tokens };
  if (usage && typeof usage.completion_tokens === 'number')
    return {
      input_tokens: typeof usage.prompt_tokens === 'number' ? usage.prompt_tokens : 0,
      output_tokens: usage.completion_tokens,
    };
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

/** The gateway's own timings; null for a TGI or OpenAI answer. */
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

/** What a complete answer says, or why it is not one. */
export type AnswerReading =
  { kind: 'answer'; usage: Usage | null; server: ServerTimings | null } | { kind: 'protocol'; message: string };

/** A 200 JSON answer. An OpenAI answer without `choices` is not one (a proxy's JSON, a wrong route). */
export function answerOf(
  api: TargetApi,
  answer: Record<string, unknown>,
  headers?: Record<string, string | string[] | undefined>,
): AnswerReading {
  if ((api === 'openai' || api === 'openai-completions') && !Array.isArray(answer.choices))
    return { kind: 'protocol', message: `answer has no choices: ${JSON.stringify(answer).slice(0, 200)}` };
  return { kind: 'answer', usage: usageOf(answer, headers), server: serverTimingsOf(answer) };
}

export interface ErrorReading {
  type: string;
  message: string;
}

/**
 * An error body or stream event in any of the shapes: OpenAI's `{"error": {message, type, param, code}}` (the
 * gateway's OpenAI routes put its error type in `code`), or `{error, error_type}` (the gateway's `/v1/generate`,
 * TGI, TGI's own `/v1/*` routes). Null when the value is neither. `fallbackType` when the body names no type.
 */
export function errorOf(body: Record<string, unknown>, fallbackType: string): ErrorReading | null {
  const error = body.error;
  if (typeof error === 'string')
    return { type: typeof body.error_type === 'string' ? body.error_type : fallbackType, message: error };
  if (typeof error === 'object' && error !== null) {
    const { message, code } = error as Partial<Record<'message' | 'code', unknown>>;
    return {
      type: typeof code === 'string' ? code : fallbackType,
      message: typeof message === 'string' ? message : JSON.stringify(error),
    };
  }
  return null;
}

/** What one event of a 200 stream means to the client. */
export type StreamStep =
  /** It carries generated text: its arrival is a token time. */
  | { kind: 'token' }
  /** Nothing to time: a role-only or empty chunk, the usage chunk. */
  | { kind: 'other' }
  /** The stream's last event (TGI, gateway: the one with details, itself a token; OpenAI: `[DONE]`). */
  | { kind: 'end'; token: boolean; usage: Usage | null; server: ServerTimings | null }
  | { kind: 'error'; type: string; message: string }
  | { kind: 'protocol'; message: string };

/** Reads one stream's events, in order (an OpenAI stream's usage comes before its end). */
export interface StreamReader {
  read(data: string): StreamStep;
}

export function streamReader(api: TargetApi): StreamReader {
  return api === 'openai' || api === 'openai-completions' ? new OpenAiStreamReader() : new TgiStreamReader();
}

/** `/v1/generate` and TGI: a token per event; the last has `generated_text` and `details`. */
class TgiStreamReader implements StreamReader {
  read(data: string): StreamStep {
    const event = parseObject(data);
    if (event === null) return notJson(data);
    const error = errorOf(event, 'upstream');
    if (error) return { kind: 'error', ...error };
    const token = event.token !== undefined;
    if (
      (event.generated_text !== null && event.generated_text !== undefined) ||
      (event.details !== null && event.details !== undefined)
    )
      return { kind: 'end', token, usage: usageOf(event), server: serverTimingsOf(event) };
    return token ? { kind: 'token' } : { kind: 'other' };
  }
}

/**
 * OpenAI: chunks whose `choices[0].delta.content` (chat) or `choices[0].text` (completions) is the text; the usage
 * in a chunk of its own (`choices: []`) when `stream_options.include_usage`; `[DONE]` last.
 */
class OpenAiStreamReader implements StreamReader {
  private usage: Usage | null = null;

  read(data: string): StreamStep {
    if (data === '[DONE]') return { kind: 'end', token: false, usage: this.usage, server: null };
    const chunk = parseObject(data);
    if (chunk === null) return notJson(data);
    const error = errorOf(chunk, 'upstream');
    if (error) return { kind: 'error', ...error };
    if (!Array.isArray(chunk.choices))
      return { kind: 'protocol', message: `chunk has no choices: ${data.slice(0, 200)}` };
    if (chunk.usage !== null && chunk.usage !== undefined) this.usage = usageOf(chunk);
    const choice = chunk.choices[0] as { delta?: { content?: unknown }; text?: unknown } | undefined;
    const text = choice?.delta?.content ?? choice?.text;
    return typeof text === 'string' && text.length > 0 ? { kind: 'token' } : { kind: 'other' };
  }
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

export function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function notJson(data: string): StreamStep {
  return { kind: 'protocol', message: `event is not a JSON object: ${data.slice(0, 200)}` };
}

function headerNumber(value: string | string[] | undefined): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}
