import type { TgiGenerateResponse, TgiPrefillToken, TgiStreamEvent, TgiToken } from '../tgi-protocol.js';
import { plannedTokens, RequestFailure, wordCount, type StandInRoute, type TokenPlan } from './stand-in-route.js';
import type { StandInScript } from './tgi-stand-in.js';

/** TGI's `POST /generate` and `POST /generate_stream` on the stand-in. */
interface GeneratePlan extends TokenPlan {
  inputs: string;
  seed: number | null;
  details: boolean;
  /** `decoder_input_details`: the prompt's tokens with their logprobs, in the details. */
  prefill: boolean;
  /** `top_n_tokens`: this many most likely tokens beside each one (0: none). */
  topN: number;
  returnFullText: boolean;
  receivedAt: number;
}

/** TGI's `--max-top-n-tokens` default. */
const MAX_TOP_N_TOKENS = 5;

export function generateRoute(stream: boolean): StandInRoute<GeneratePlan> {
  return {
    streams: () => stream,
    plan: (body, script) => planGeneration(body, script, stream),
    tokenEvents: (plan, i) => [streamEvent(plan, i, i === plan.tokens.length - 1)],
    errorEvent: (errorType, message) => ({ error: message, error_type: errorType }),
    streamEnd: () => '',
    answer: (plan) => ({ body: generateResponse(plan), headers: accountingHeaders(plan) }),
  };
}

/** TGI's own checks on the fields the stand-in reads, with TGI's wording, then the tokens it will send. */
function planGeneration(body: unknown, script: StandInScript, stream: boolean): GeneratePlan {
  const receivedAt = performance.now();
  if (typeof body !== 'object' || body === null)
    throw new RequestFailure('validation', 'Failed to deserialize the JSON body into the target type');
  const { inputs, parameters = {} } = body as { inputs?: unknown; parameters?: Record<string, unknown> };
  if (typeof inputs !== 'string')
    throw new RequestFailure(
      'validation',
      'Failed to deserialize the JSON body into the target type: missing field `inputs`',
    );
  // The stream route refuses the prompt's details before it validates anything else (TGI's generate_stream).
  const prefill = parameters.decoder_input_details === true;
  if (stream && prefill)
    throw new RequestFailure(
      'validation',
      'Input validation error: `decoder_input_details` == true is not supported when streaming tokens',
    );
  const topN = parameters.top_n_tokens ?? 0;
  if (typeof topN !== 'number' || !Number.isInteger(topN) || topN < 0)
    throw new RequestFailure(
      'validation',
      'Failed to deserialize the JSON body into the target type: parameters.top_n_tokens: invalid type, expected u32',
      true,
    );
  if (topN > MAX_TOP_N_TOKENS)
    throw new RequestFailure(
      'validation',
      `Input validation error: \`top_n_tokens\` must be >= 0 and <= ${MAX_TOP_N_TOKENS}. Given: ${topN}`,
    );
  if (inputs.length === 0) throw new RequestFailure('validation', 'Input validation error: `inputs` cannot be empty');
  const sampling =
    parameters.do_sample === true ||
    parameters.temperature !== undefined ||
    parameters.top_p !== undefined ||
    parameters.top_k !== undefined;
  return {
    ...plannedTokens(script, parameters.max_new_tokens ?? null),
    inputs,
    inputLength: script.inputLength ?? wordCount(inputs),
    seed: sampling ? (typeof parameters.seed === 'number' ? parameters.seed : 42) : null,
    // TGI's /generate answers with details when either is asked for; its stream only with `details`.
    details: parameters.details === true || prefill,
    prefill,
    topN,
    returnFullText: parameters.return_full_text === true,
    receivedAt,
  };
}

function generatedText(plan: GeneratePlan): string {
  const text = plan.tokens
    .filter((t) => !t.special)
    .map((t) => t.text)
    .join('');
  return plan.returnFullText ? plan.inputs + text : text;
}

/**
 * The `n` most likely tokens at a position, most likely first: the stand-in's "model" always picked the likeliest,
 * so the token itself leads, and made-up alternatives follow.
 */
function topTokens(token: TgiToken, n: number): TgiToken[] {
  const top = [token];
  for (let k = 1; k < n; k++)
    top.push({ id: 3000 + k, text: ` alt${k}`, logprob: (token.logprob ?? 0) - k, special: false });
  return top;
}

/** The stand-in's "tokenizer" on the prompt: a token per word, with its spaces in front; the first has no logprob. */
function prefillTokens(inputs: string): TgiPrefillToken[] {
  return (inputs.match(/\s*\S+/g) ?? []).map((text, i) => ({ id: 500 + i, text, logprob: i === 0 ? null : -2.5 }));
}

function streamEvent(plan: GeneratePlan, i: number, last: boolean): TgiStreamEvent {
  const token = plan.tokens[i]!;
  return {
    index: i + 1,
    token,
    // TGI leaves the field out when no top tokens were asked for.
    ...(plan.topN > 0 ? { top_tokens: topTokens(token, plan.topN) } : {}),
    generated_text: last ? generatedText(plan) : null,
    details:
      last && plan.details
        ? {
            finish_reason: plan.finishReason,
            generated_tokens: plan.tokens.length,
            input_length: plan.inputLength,
            seed: plan.seed,
          }
        : null,
  };
}

function generateResponse(plan: GeneratePlan): TgiGenerateResponse {
  if (!plan.details) return { generated_text: generatedText(plan) };
  return {
    generated_text: generatedText(plan),
    details: {
      finish_reason: plan.finishReason,
      generated_tokens: plan.tokens.length,
      seed: plan.seed,
      prefill: plan.prefill ? prefillTokens(plan.inputs) : [],
      tokens: plan.tokens,
      ...(plan.topN > 0 ? { top_tokens: plan.tokens.map((token) => topTokens(token, plan.topN)) } : {}),
    },
  };
}

/** The headers TGI sends with every /generate answer (router/src/server.rs): timings in ms, the token counts. */
function accountingHeaders(plan: GeneratePlan): Record<string, string> {
  const totalMs = Math.round(performance.now() - plan.receivedAt);
  return {
    'x-compute-type': 'stand-in',
    'x-compute-time': String(totalMs / 1000),
    'x-compute-characters': String([...plan.inputs].length),
    'x-total-time': String(totalMs),
    'x-validation-time': '0',
    'x-queue-time': '0',
    'x-inference-time': String(totalMs),
    'x-time-per-token': String(Math.floor(totalMs / plan.tokens.length)),
    'x-prompt-tokens': String(plan.inputLength),
    'x-generated-tokens': String(plan.tokens.length),
  };
}
