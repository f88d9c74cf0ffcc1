import type { TgiGenerateResponse, TgiStreamEvent } from '../tgi-protocol.js';
import { plannedTokens, RequestFailure, wordCount, type StandInRoute, type TokenPlan } from './stand-in-route.js';
import type { StandInScript } from './tgi-stand-in.js';

/** TGI's `POST /generate` and `POST /generate_stream` on the stand-in. */
interface GeneratePlan extends TokenPlan {
  inputs: string;
  seed: number | null;
  details: boolean;
  returnFullText: boolean;
}

export function generateRoute(stream: boolean): StandInRoute<GeneratePlan> {
  return {
    streams: () => stream,
    plan: planGeneration,
    tokenEvents: (plan, i) => [streamEvent(plan, i, i === plan.tokens.length - 1)],
    errorEvent: (errorType, message) => ({ error: message, error_type: errorType }),
    streamEnd: () => '',
    answer: (plan) => ({
      body: generateResponse(plan),
      headers: { 'x-prompt-tokens': String(plan.inputLength), 'x-generated-tokens': String(plan.tokens.length) },
    }),
  };
}

/** TGI's own checks on the fields the stand-in reads, with TGI's wording, then the tokens it will send. */
function planGeneration(body: unknown, script: StandInScript): GeneratePlan {
  if (typeof body !== 'object' || body === null)
    throw new RequestFailure('validation', 'Failed to deserialize the JSON body into the target type');
  const { inputs, parameters = {} } = body as { inputs?: unknown; parameters?: Record<string, unknown> };
  if (typeof inputs !== 'string')
    throw new RequestFailure(
      'validation',
      'Failed to deserialize the JSON body into the target type: missing field `inputs`',
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
    details: parameters.details === true,
    returnFullText: parameters.return_full_text === true,
  };
}

function generatedText(plan: GeneratePlan): string {
  const text = plan.tokens
    .filter((t) => !t.special)
    .map((t) => t.text)
    .join('');
  return plan.returnFullText ? plan.inputs + text : text;
}

function streamEvent(plan: GeneratePlan, i: number, last: boolean): TgiStreamEvent {
  return {
    index: i + 1,
    token: plan.tokens[i]!,
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
      prefill: [],
      tokens: plan.tokens,
    },
  };
}
