import type { GenerationRequest } from '#backends';
import type { CompletionRequestDto } from './completion-request.dto.js';
import { checkStreamOptions, given, refuse, stopSequences } from './openai-request-rules.js';

/** The one prompt of a completion request (a string, or an array of exactly one). */
export function promptOf(body: CompletionRequestDto): string {
  return typeof body.prompt === 'string' ? body.prompt : body.prompt[0];
}

/**
 * A validated completion body as a TGI generate job: temperature 0 decodes greedily and top_p 1 is dropped (TGI
 * refuses both as given), `echo` is TGI's `return_full_text`. TGI's generate has no presence penalty: only 0 (none)
 * is accepted.
 */
export function toCompletionGenerationRequest(body: CompletionRequestDto, maxNewTokens: number): GenerationRequest {
  checkStreamOptions(body);
  const presence = given(body.presence_penalty);
  if (presence !== undefined && presence !== 0)
    refuse(
      'presence_penalty',
      'presence_penalty is not supported on /v1/completions (send 0, or use frequency_penalty)',
    );
  const parameters: Record<string, unknown> = { max_new_tokens: maxNewTokens };
  const temperature = given(body.temperature);
  if (temperature === 0) parameters.do_sample = false;
  else if (temperature !== undefined) parameters.temperature = temperature;
  const topP = given(body.top_p);
  if (topP !== undefined && topP < 1) parameters.top_p = topP;
  const seed = given(body.seed);
  if (seed !== undefined) parameters.seed = seed;
  const stop = stopSequences(body.stop);
  if (stop) parameters.stop = stop;
  const frequency = given(body.frequency_penalty);
  if (frequency !== undefined) parameters.frequency_penalty = frequency;
  if (body.echo === true) parameters.return_full_text = true;
  return { inputs: promptOf(body), parameters };
}
