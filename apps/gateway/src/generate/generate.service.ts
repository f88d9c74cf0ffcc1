import { Inject, Injectable } from '@nestjs/common';
import { GatewayError } from '#backends';
import { ServingPath, type GenerateResult, type ServeContext } from '../serving/serving-path.service.js';
import type { GenerateRequestDto } from './generate-request.dto.js';
import { toTgiParameters } from './tgi-parameters.js';

export type GenerateContext = ServeContext;

/** POST /v1/generate's edge of the shared path: its body becomes a TGI generate job. */
@Injectable()
export class GenerateService {
  constructor(@Inject(ServingPath) private readonly path: ServingPath) {}

  generate(request: GenerateRequestDto, context: GenerateContext): Promise<GenerateResult> {
    const entry = this.path.resolve(request.model_id, 'model_id', '/models');
    const { details, decoder_input_details: prefill } = request.parameters ?? {};
    if (prefill === true && request.stream === true)
      throw new GatewayError(
        'validation',
        'parameters.decoder_input_details is not supported when streaming tokens (as TGI refuses it): send stream: false',
        { param: 'parameters.decoder_input_details' },
      );
    const maxNewTokens = this.path.maxNewTokens(
      entry.descriptor,
      request.parameters?.max_new_tokens,
      'parameters.max_new_tokens',
    );
    return this.path.serve(
      entry,
      {
        request: {
          inputs: request.inputs,
          parameters: toTgiParameters(request.parameters, maxNewTokens),
          // The prompt's logprobs come only in the backend's one answer.
          ...(details === true && prefill === true ? { route: 'generate' as const } : {}),
        },
        maxNewTokens,
        ...(request.scenario !== undefined ? { scenario: request.scenario } : {}),
        ...(request.timeout_ms !== undefined ? { timeoutMs: request.timeout_ms } : {}),
      },
      context,
    );
  }
}
