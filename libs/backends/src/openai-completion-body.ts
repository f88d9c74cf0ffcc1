import { GatewayError } from './gateway-error.js';

/**
 * The body of an OpenAI-protocol `POST /v1/completions` (vLLM, llama-server, SGLang, Ollama) for a TGI generation:
 * what maps, field by field, and a 422 naming every parameter that has no counterpart on these servers. `top_k` and
 * `repetition_penalty` are extras that vLLM and SGLang read (llama-server reads `top_k`; its repetition penalty is
 * `repeat_penalty`), sent as given.
 */
export interface CompletionBody {
  model?: string;
  prompt: string;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  seed?: number;
  stop?: string[];
  frequency_penalty?: number;
  repetition_penalty?: number;
  stream: true;
  stream_options: { include_usage: true };
}

/** TGI parameters that map one to one. */
const SAME_NAME = ['top_p', 'top_k', 'seed', 'stop', 'frequency_penalty', 'repetition_penalty'] as const;

/**
 * Every TGI parameter that is sent or honoured: by name, in another form (`max_new_tokens`, the sampling switch), by
 * the gateway (`return_full_text`), or needing nothing (`details`: the stream gives them anyway).
 */
const MAPPED = new Set<string>([
  ...SAME_NAME,
  'max_new_tokens',
  'temperature',
  'do_sample',
  'return_full_text',
  'details',
]);

/**
 * TGI parameters with no OpenAI-protocol counterpart, refused unless they ask for nothing (their TGI default): the
 * gateway will not answer as if it had honoured them.
 */
const UNMAPPABLE: Readonly<Record<string, (value: unknown) => boolean>> = {
  top_n_tokens: (v) => v === 0,
  decoder_input_details: (v) => v === false,
  best_of: (v) => v === 1,
  typical_p: () => false,
  truncate: () => false,
  watermark: (v) => v === false,
  grammar: () => false,
  adapter_id: () => false,
};

/**
 * The body for a TGI generation; throws a `validation` GatewayError naming what cannot be sent. TGI decodes greedily
 * unless asked to sample, OpenAI-protocol servers sample at temperature 1 unless told otherwise: greedy is sent as
 * `temperature: 0`.
 */
export function toCompletionBody(
  inputs: string,
  parameters: Readonly<Record<string, unknown>>,
  model: string | undefined,
): CompletionBody {
  const refused = Object.keys(parameters).filter((name) => {
    const value = parameters[name];
    if (value === null || value === undefined) return false;
    const accepts = UNMAPPABLE[name];
    if (accepts !== undefined) return !accepts(value);
    return !MAPPED.has(name);
  });
  if (refused.length > 0) {
    throw new GatewayError(
      'validation',
      `this model's backend speaks the OpenAI protocol, which has no counterpart for ${refused
        .map((name) => `\`${name}\``)
        .join(', ')}: leave ${refused.length === 1 ? 'it' : 'them'} out`,
      { param: refused[0] },
    );
  }
  const body: CompletionBody = { prompt: inputs, stream: true, stream_options: { include_usage: true } };
  if (model !== undefined) body.model = model;
  const maxNewTokens = parameters.max_new_tokens;
  if (typeof maxNewTokens === 'number') body.max_tokens = maxNewTokens;
  for (const name of SAME_NAME) {
    const value = parameters[name];
    if (value !== null && value !== undefined) (body as unknown as Record<string, unknown>)[name] = value;
  }
  const temperature = parameters.temperature;
  if (!samples(parameters)) {
    body.temperature = 0;
    delete body.top_p; // greedy decoding filters nothing
    delete body.top_k;
  } else {
    body.temperature = typeof temperature === 'number' ? temperature : 1;
  }
  return body;
}

/**
 * TGI's rule (server/text_generation_server/utils/tokens.py, NextTokenChooser): it samples when `do_sample` is set or
 * any logits warper is, a temperature other than 1, top_k above 0 or top_p below 1.
 */
function samples(parameters: Readonly<Record<string, unknown>>): boolean {
  const { do_sample, temperature, top_k, top_p } = parameters;
  return (
    do_sample === true ||
    (typeof temperature === 'number' && temperature !== 1) ||
    (typeof top_k === 'number' && top_k > 0) ||
    (typeof top_p === 'number' && top_p < 1)
  );
}
