import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { callerOf } from '../auth/caller.js';
import { ApiErrorResponses } from '../http/api-error-responses.decorator.js';
import { TGI_GENERATION_ERRORS } from './tgi-error-meanings.js';
import { TgiGenerationService } from './tgi-generation.service.js';
import { replyTgi } from './tgi-replies.js';
import {
  TgiCompatGenerateRequestDto,
  TgiErrorResponseDto,
  TgiGenerateRequestDto,
  TgiGenerateResponseDto,
  TgiInfoDto,
} from './tgi-wire.dto.js';

const MODEL_PARAM = {
  name: 'id',
  description: 'A model id or alias; an id with `/` in it is sent with `%2F` (or raw, when it has exactly one `/`).',
};

/**
 * TGI's routes for one model, so a TGI client pointed at `/models/{id}` works unchanged. An id with one raw `/`
 * (`Qwen/Qwen2-7B-Instruct`) is encoded before routing (model-id-url.ts).
 */
@ApiTags('tgi')
@Controller('models')
export class TgiController {
  constructor(@Inject(TgiGenerationService) private readonly generation: TgiGenerationService) {}

  @Post(':id/generate')
  @HttpCode(200)
  @ApiOperation({ summary: "TGI's `/generate` for one model: `{generated_text, details?}`." })
  @ApiParam(MODEL_PARAM)
  @ApiBody({ type: TgiGenerateRequestDto })
  @ApiOkResponse({ type: TgiGenerateResponseDto })
  @ApiErrorResponses(TGI_GENERATION_ERRORS, { body: TgiErrorResponseDto })
  generate(
    @Param('id') id: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return replyTgi(this.generation.prepare(id, body, { compat: false, streaming: false }), request, reply);
  }

  @Post(':id/generate_stream')
  @HttpCode(200)
  @ApiOperation({ summary: "TGI's `/generate_stream` for one model: TGI's token events as the backend sent them." })
  @ApiParam(MODEL_PARAM)
  @ApiBody({ type: TgiGenerateRequestDto })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: "TGI's StreamResponse events (`data:{json}`); an error is the last event." })
  @ApiErrorResponses(TGI_GENERATION_ERRORS, { body: TgiErrorResponseDto })
  generateStream(
    @Param('id') id: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return replyTgi(this.generation.prepare(id, body, { compat: false, streaming: true }), request, reply);
  }

  @Post(':id')
  @HttpCode(200)
  @ApiOperation({
    summary: "TGI's compat route `POST /` for one model: an array of one answer, or TGI's events with `stream: true`.",
  })
  @ApiParam(MODEL_PARAM)
  @ApiBody({ type: TgiCompatGenerateRequestDto })
  @ApiOkResponse({ type: [TgiGenerateResponseDto] })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiErrorResponses(TGI_GENERATION_ERRORS, { body: TgiErrorResponseDto })
  compat(
    @Param('id') id: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return replyTgi(this.generation.prepare(id, body, { compat: true }), request, reply, { array: true });
  }

  @Get(':id/info')
  @ApiOperation({ summary: "TGI's `/info` for one model, as its backend answers it." })
  @ApiParam(MODEL_PARAM)
  @ApiOkResponse({ type: TgiInfoDto })
  @ApiErrorResponses(
    {
      401: 'No API key, or not a valid one (`unauthorized`), where the gateway has keys.',
      403: "The model is outside the API key's scope (`forbidden`).",
      404: 'No model has this id or alias (`model_not_found`).',
      503: 'The model is not ready, or its backend did not answer (`unavailable`).',
    },
    { body: TgiErrorResponseDto },
  )
  info(@Param('id') id: string, @Req() request: FastifyRequest): Promise<Record<string, unknown>> {
    return this.generation.info(id, callerOf(request));
  }

  @Get(':id/health')
  @HttpCode(200)
  @ApiOperation({ summary: "TGI's `/health` for one model: 200 with no body when it serves." })
  @ApiParam(MODEL_PARAM)
  @ApiOkResponse({ description: 'The model serves.' })
  @ApiErrorResponses(
    {
      401: 'No API key, or not a valid one (`unauthorized`), where the gateway has keys.',
      403: "The model is outside the API key's scope (`forbidden`).",
      404: 'No model has this id or alias (`model_not_found`).',
      503: 'The model is loading, unhealthy or stopped (`unavailable`).',
    },
    { body: TgiErrorResponseDto },
  )
  async health(@Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    this.generation.health(id, callerOf(request));
    await reply.send();
  }
}
