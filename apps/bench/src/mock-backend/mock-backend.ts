import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TgiErrorEvent, TgiGenerateResponse, TgiInfo } from '#backends';
import { Rng } from '../load/rng.js';
import { CHAT_DONE_FRAME, ChatFrameCache, chatPlanOf, ChatValidationFailure, type ChatPlan } from './mock-chat.js';
import { AnswerCache, sseFrame, type MockFinishReason } from './mock-tokens.js';

/**
 * `bench mock-backend`: a LOAD-TEST TARGET THAT SPEAKS TGI, NOT A MODEL. It answers `/generate`,
 * `/generate_stream` (SSE, errors inside the 200 stream as TGI sends them), `/v1/chat/completions` (TGI's Messages
 * API, mock-chat.ts), `/health` and `/info` with the shapes
 * of contracts/tgi-openapi.json, after a configurable time to first token and time per token (plus jitter), with
 * a configurable number of placeholder tokens, and injects generation errors and 429s at configurable rates. It is
 * the backend for measuring the gateway itself: plain node:http and precomputed bodies, so it costs next to nothing.
 */
export interface MockBackendOptions {
  host: string;
  port: number;
  /** Delay before the first token (ms). */
  ttftMs: number;
  /** Delay between two tokens (ms). */
  itlMs: number;
  /** Each delay gets an extra uniform [0, jitterMs) ms. */
  jitterMs: number;
  /** Tokens per answer: min(outputTokens, max_new_tokens), ending in EOS when fewer; null: max_new_tokens. */
  outputTokens: number | null;
  /** When the request does not say max_new_tokens. */
  defaultMaxNewTokens: number;
  /** Fraction of requests failing with a generation error (424; mid-stream event on /generate_stream). */
  errorRate: number;
  /** Fraction of requests refused as overloaded (429; an event in a 200 stream on /generate_stream, as TGI). */
  overloadRate: number;
  /** TGI's --max-concurrent-requests: past it, overloaded. */
  maxConcurrent: number;
  seed: number;
}

export const MOCK_BACKEND_DEFAULTS: MockBackendOptions = {
  host: '127.0.0.1',
  port: 8080,
  ttftMs: 0,
  itlMs: 0,
  jitterMs: 0,
  outputTokens: null,
  defaultMaxNewTokens: 100,
  errorRate: 0,
  overloadRate: 0,
  maxConcurrent: 100_000,
  seed: 1,
};

export const MOCK_MODEL_ID = 'sluice-bench/mock-backend';
const NOT_A_MODEL = 'load-test target, not a model';

export interface MockBackendStats {
  requests: number;
  inFlight: number;
  maxInFlight: number;
}

export interface RunningMockBackend {
  url: string;
  stats: Readonly<MockBackendStats>;
  close(): Promise<void>;
}

class ValidationFailure extends Error {}

interface Timer {
  handle: NodeJS.Timeout | undefined;
}

/** What a 200 stream sends: a frame per token but the last, the last event(s), or an error event halfway. */
interface TokenStreamScript {
  frames: Buffer[];
  allButLast: Buffer;
  last: () => string;
  error: string | null;
}

const INJECTED_ERROR_MESSAGE = 'Request failed during generation: injected by bench mock-backend (--error-rate)';
const INJECTED_ERROR_FRAME = sseFrame({ error: INJECTED_ERROR_MESSAGE, error_type: 'generation' });

interface Plan {
  n: number;
  finish: MockFinishReason;
  inputLength: number;
  details: boolean;
  seed: number | null;
}

export async function startMockBackend(partial: Partial<MockBackendOptions> = {}): Promise<RunningMockBackend> {
  const options = { ...MOCK_BACKEND_DEFAULTS, ...partial };
  const rng = new Rng(options.seed, 7);
  const answers = new AnswerCache();
  const chatFrames = new ChatFrameCache(MOCK_MODEL_ID);
  const stats: MockBackendStats = { requests: 0, inFlight: 0, maxInFlight: 0 };
  const info: TgiInfo = {
    model_id: MOCK_MODEL_ID,
    model_sha: null,
    model_pipeline_tag: 'text-generation',
    max_concurrent_requests: options.maxConcurrent,
    max_best_of: 1,
    max_stop_sequences: 4,
    max_input_tokens: 1_000_000,
    max_total_tokens: 2_000_000,
    validation_workers: 1,
    max_client_batch_size: 1,
    router: `sluice-bench mock-backend (${NOT_A_MODEL})`,
    version: '3.3.6',
    sha: null,
    docker_label: null,
  };
  const infoBody = JSON.stringify(info);
  const delay = (base: number) => (options.jitterMs > 0 ? base + rng.uniform(0, options.jitterMs) : base);

  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    if (req.method === 'GET' && path === '/health') return void res.writeHead(200, { 'content-length': '0' }).end();
    if (req.method === 'GET' && path === '/info') return sendJson(res, 200, infoBody);
    if (req.method === 'POST' && (path === '/generate' || path === '/generate_stream'))
      return void readBody(req, (text) => generate(res, path === '/generate_stream', text));
    if (req.method === 'POST' && path === '/v1/chat/completions') return void readBody(req, (text) => chat(res, text));
    req.resume();
    sendJson(res, 404, JSON.stringify({ error: `No route for ${req.method} ${path}`, error_type: 'not_found' }));
  });
  server.keepAliveTimeout = 72_000; // TGI's (hyper's) idle timeout
  server.headersTimeout = 75_000;

  /** Counts the request in; answers 429 when it is refused (at capacity, or drawn to be); else its fate. */
  function admit(res: http.ServerResponse, stream: boolean): { injectError: boolean; timer: Timer } | null {
    const draw = options.errorRate > 0 || options.overloadRate > 0 ? rng.next() : 1;
    if (stats.inFlight >= options.maxConcurrent || draw < options.overloadRate) {
      fail(res, { stream, status: 429, errorType: 'overloaded', message: 'Model is overloaded' });
      return null;
    }
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    const timer: Timer = { handle: undefined };
    res.on('close', () => {
      stats.inFlight--;
      clearTimeout(timer.handle);
    });
    return { injectError: draw < options.overloadRate + options.errorRate, timer };
  }

  /** Answers after the time the whole generation would take (the non-streamed routes). */
  function sendAfterGeneration(timer: Timer, n: number, send: () => void): void {
    let total = delay(options.ttftMs);
    for (let i = 1; i < n; i++) total += delay(options.itlMs);
    if (total > 0) timer.handle = setTimeout(send, total);
    else send();
  }

  /** A 200 event stream: a frame per token after the set delays, or the error event halfway through. */
  function sendTokenStream(res: http.ServerResponse, timer: Timer, script: TokenStreamScript): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'x-compute-type': 'mock',
      'x-mock-backend': NOT_A_MODEL,
    });
    res.flushHeaders();
    const n = script.frames.length + 1;
    const errorAt = script.error === null ? -1 : Math.floor(n / 2);
    if (options.itlMs === 0 && options.jitterMs === 0) {
      // Everything after the first token at once: one write for the tokens, one for the last event.
      const sendAll = () => {
        if (errorAt >= 0) {
          if (errorAt > 0) res.write(Buffer.concat(script.frames.slice(0, errorAt)));
          return void res.end(script.error);
        }
        if (script.allButLast.length > 0) res.write(script.allButLast);
        res.end(script.last());
      };
      if (options.ttftMs > 0) timer.handle = setTimeout(sendAll, options.ttftMs);
      else sendAll();
      return;
    }
    let i = 0;
    const step = () => {
      if (res.destroyed) return;
      if (i === errorAt) return void res.end(script.error);
      if (i === n - 1) return void res.end(script.last());
      res.write(script.frames[i++]!);
      timer.handle = setTimeout(step, delay(options.itlMs));
    };
    timer.handle = setTimeout(step, delay(options.ttftMs));
  }

  function generate(res: http.ServerResponse, stream: boolean, text: string): void {
    stats.requests++;
    let plan: Plan;
    try {
      plan = planOf(text, options);
    } catch (error) {
      if (!(error instanceof ValidationFailure)) throw error;
      return fail(res, { stream, status: 422, errorType: 'validation', message: error.message });
    }
    const admitted = admit(res, stream);
    if (!admitted) return;
    const { injectError, timer } = admitted;
    const answer = answers.get(plan.n, plan.finish);

    if (!stream) {
      return sendAfterGeneration(timer, plan.n, () => {
        if (injectError)
          return fail(res, { stream, status: 424, errorType: 'generation', message: INJECTED_ERROR_MESSAGE });
        const body = plan.details
          ? JSON.stringify({
              generated_text: answer.text,
              details: {
                finish_reason: plan.finish,
                generated_tokens: plan.n,
                seed: plan.seed,
                prefill: [],
                tokens: answer.tokens,
              },
            } satisfies TgiGenerateResponse)
          : answer.plainBody;
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-prompt-tokens': plan.inputLength,
          'x-generated-tokens': plan.n,
          'x-compute-type': 'mock',
          'x-mock-backend': NOT_A_MODEL,
        });
        res.end(body);
      });
    }
    sendTokenStream(res, timer, {
      frames: answer.frames,
      allButLast: answer.allButLast,
      last: () =>
        sseFrame({
          index: plan.n,
          token: answer.tokens[plan.n - 1]!,
          generated_text: answer.text,
          details: plan.details
            ? { finish_reason: plan.finish, generated_tokens: plan.n, input_length: plan.inputLength, seed: plan.seed }
            : null,
        }),
      error: injectError ? INJECTED_ERROR_FRAME : null,
    });
  }

  function chat(res: http.ServerResponse, text: string): void {
    stats.requests++;
    let plan: ChatPlan;
    try {
      plan = chatPlanOf(text, options.defaultMaxNewTokens);
    } catch (error) {
      if (!(error instanceof ChatValidationFailure)) throw error;
      return fail(res, { stream: error.inStream, status: 422, errorType: 'validation', message: error.message });
    }
    const { stream } = plan;
    const admitted = admit(res, stream);
    if (!admitted) return;
    const { injectError, timer } = admitted;
    const n = tokensFor(plan.maxTokens, options);
    const finish = finishFor(n, plan.maxTokens);
    const frames = chatFrames.get(answers.get(n, finish), finish);

    if (!stream) {
      return sendAfterGeneration(timer, n, () => {
        if (injectError)
          return fail(res, { stream, status: 424, errorType: 'generation', message: INJECTED_ERROR_MESSAGE });
        const body = frames.completion(plan.inputLength);
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-compute-type': 'mock',
          'x-mock-backend': NOT_A_MODEL,
        });
        res.end(body);
      });
    }
    sendTokenStream(res, timer, {
      frames: frames.frames,
      allButLast: frames.allButLast,
      last: () => frames.last + (plan.includeUsage ? frames.usage(plan.inputLength) : '') + CHAT_DONE_FRAME,
      error: injectError ? INJECTED_ERROR_FRAME : null,
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '127.0.0.1' : host}:${address.port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** TGI's own checks on the fields the mock reads, with TGI's wording; then how many tokens it will send. */
function planOf(text: string, options: MockBackendOptions): Plan {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ValidationFailure('Failed to deserialize the JSON body into the target type');
  }
  if (typeof body !== 'object' || body === null)
    throw new ValidationFailure('Failed to deserialize the JSON body into the target type');
  const { inputs, parameters = {} } = body as { inputs?: unknown; parameters?: Record<string, unknown> | null };
  if (typeof inputs !== 'string')
    throw new ValidationFailure('Failed to deserialize the JSON body into the target type: missing field `inputs`');
  if (inputs.length === 0) throw new ValidationFailure('Input validation error: `inputs` cannot be empty');
  const p = parameters ?? {};
  const maxNewTokens = p.max_new_tokens ?? options.defaultMaxNewTokens;
  if (typeof maxNewTokens !== 'number' || !Number.isInteger(maxNewTokens) || maxNewTokens <= 0) {
    throw new ValidationFailure('Input validation error: `max_new_tokens` must be strictly positive');
  }
  const n = tokensFor(maxNewTokens, options);
  const sampling =
    p.do_sample === true ||
    typeof p.temperature === 'number' ||
    typeof p.top_p === 'number' ||
    typeof p.top_k === 'number';
  return {
    n,
    finish: finishFor(n, maxNewTokens),
    // A stand-in tokenizer: about 4 bytes of UTF-8 per token. It only has to be stable, not right.
    inputLength: Math.max(1, Math.ceil(Buffer.byteLength(inputs) / 4)),
    details: p.details === true,
    seed: sampling ? (typeof p.seed === 'number' ? p.seed : 0) : null,
  };
}

/** Tokens an answer has: min(--output-tokens, the request's maximum), or the maximum. */
function tokensFor(maxNewTokens: number, options: MockBackendOptions): number {
  return options.outputTokens === null ? maxNewTokens : Math.max(1, Math.min(options.outputTokens, maxNewTokens));
}

/** An answer shorter than asked ends with the EOS token. */
function finishFor(n: number, maxNewTokens: number): MockFinishReason {
  return n < maxNewTokens ? 'eos_token' : 'length';
}

interface Failure {
  /** Answered on the streaming route: an event in a 200 stream instead of the status. */
  stream: boolean;
  status: number;
  errorType: string;
  message: string;
}

function fail(res: http.ServerResponse, { stream, status, errorType, message }: Failure): void {
  const body = JSON.stringify({ error: message, error_type: errorType } satisfies TgiErrorEvent);
  if (stream) {
    // TGI: on the streaming route every error is an event in a 200 stream.
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'x-mock-backend': NOT_A_MODEL,
    });
    res.end(`data:${body}\n\n`);
    return;
  }
  sendJson(res, status, body);
}

function sendJson(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req: http.IncomingMessage, onBody: (text: string) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () =>
    onBody(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')),
  );
}
