import { overlaid } from '#backends';
import type { GenerateParametersDto } from './generate-request.dto.js';

/**
 * The request's parameters as TGI wants them. The gateway accepts what clients of OpenAI-style APIs send and TGI
 * refuses: temperature 0 means greedy decoding (TGI: "must be strictly positive") and top_p 1 means no nucleus
 * filtering (TGI: "must be < 1.0").
 */
export function toTgiParameters(
  parameters: GenerateParametersDto | undefined,
  maxNewTokens: number,
): Record<string, unknown> {
  const tgi: Record<string, unknown> = overlaid(parameters, { max_new_tokens: maxNewTokens });
  if (parameters?.temperature === 0) {
    delete tgi.temperature;
    tgi.do_sample = false;
  }
  if (parameters?.top_p === 1) delete tgi.top_p;
  return tgi;
}
