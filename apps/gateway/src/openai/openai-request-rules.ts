import { GatewayError } from '#backends';
import type { OpenAiSamplingDto } from './openai-sampling.dto.js';

/** The rules across fields that a DTO cannot state alone; each refusal names its field, as OpenAI's do. */

export function refuse(param: string, message: string): never {
  throw new GatewayError('validation', message, { param });
}

/** `stream_options` only with `stream: true`, as OpenAI answers. */
export function checkStreamOptions(body: OpenAiSamplingDto): void {
  if (body.stream_options != null && body.stream !== true)
    refuse('stream_options', 'stream_options is only allowed when stream is true');
}

/** The stop sequences as a list (OpenAI takes a string or a list); undefined when there are none. */
export function stopSequences(stop: string | string[] | null | undefined): string[] | undefined {
  if (stop == null) return undefined;
  const list = typeof stop === 'string' ? [stop] : stop;
  return list.length > 0 ? list : undefined;
}

/** Null and absent are the same to OpenAI. */
export function given<T>(value: T | null | undefined): T | undefined {
  return value ?? undefined;
}
