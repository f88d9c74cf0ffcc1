import { Body, Controller, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { overlaid } from '#backends';
import { ApiErrorResponses } from '../http/api-error-responses.decorator.js';
import { GatewayValidationPipe } from '../http/gateway-validation.pipe.js';
import { isPlainObject } from '#engine/field-readers';
import { CompletionRequestDto } from '../openai/completion-request.dto.js';
import { replyCompletion } from '../openai/completion-replies.js';
import { OpenAiGenerationService } from '../openai/openai-generation.service.js';
import { CompletionDto } from '../openai/openai-response.dto.js';
import { TGI_GENERATION_ERRORS } from './tgi-error-meanings.js';
import { TgiErrorResponseDto } from './tgi-wire.dto.js';

/**
 * TGI's generation parameters that its `/v1/completions` does not know and ignores, as it ignores any unknown field:
 * `@huggingface/inference` sends a text-generation request's `parameters` flattened into this body.
 */
const IGNORED_TGI_PARAMETERS = [
  'details',
  'decoder_input_details',
  'top_n_tokens',
  'do_sample',
  'top_k',
  'repetition_penalty',
  'return_full_text',
  'truncate',
  'typical_p',
  'watermark',
  'grammar',
  'adapter_id',
];

/**
 * TGI's `/v1/completions` (OpenAI's legacy completions) for one model: what `@huggingface/inference` posts to when
 * its `endpointUrl` is `/models/{id}`. The model is the URL's; the body's `model` (the client sends the URL) is not read.
 */
@ApiTags('tgi')
@Controller('models')
export class TgiCompletionsController {
  private readonly pipe = new GatewayValidationPipe();

  constructor(@Inject(OpenAiGenerationService) private readonly generation: OpenAiGenerationService) {}

  @Post(':id/v1/completions')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "TGI's `/v1/completions` for one model (what `@huggingface/inference` calls): OpenAI's completion, TGI's errors.",
  })
  @ApiParam({ name: 'id', description: 'A model id or alias (`%2F` for a `/` in it).' })
  @ApiBody({ type: CompletionRequestDto })
  @ApiOkResponse({ type: CompletionDto })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiErrorResponses(TGI_GENERATION_ERRORS, { body: TgiErrorResponseDto })
  async complete(
    @Param('id') id: string,
    @Body() raw: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const body = (await this.pipe.transform(this.forModel(id, raw), {
      type: 'body',
      metatype: CompletionRequestDto,
    })) as CompletionRequestDto;
    return replyCompletion(() => this.generation.prepareCompletion(body), body, request, reply);
  }

  /** The body with the URL's model and without the TGI parameters this route ignores; anything else is checked. */
  private forModel(model: string, raw: unknown): unknown {
    if (!isPlainObject(raw)) return raw;
    const body: Record<string, unknown> = overlaid(raw, { model });
    for (const name of IGNORED_TGI_PARAMETERS) delete body[name];
    return body;
  }
}
