import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import {
  ApiBody,
  ApiExcludeEndpoint,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
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
 * TGI's routes for one model, so a TGI client pointed at `/models/{id}` works unchanged. The `:org/:name` twins
 * take an id with one raw `/` (`Qwen/Qwen2-7B-Instruct`), as clients that do not encode it send it; they are
 * left out of the document, which names the encoded form.
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
      404: 'No model has this id or alias (`model_not_found`).',
      503: 'The model is not ready, or its backend did not answer (`unavailable`).',
    },
    { body: TgiErrorResponseDto },
  )
  info(@Param('id') id: string): Promise<Record<string, unknown>> {
    return this.generation.info(id);
  }

  @Get(':id/health')
  @HttpCode(200)
  @ApiOperation({ summary: "TGI's `/health` for one model: 200 with no body when it serves." })
  @ApiParam(MODEL_PARAM)
  @ApiOkResponse({ description: 'The model serves.' })
  @ApiErrorResponses(
    {
      404: 'No model has this id or alias (`model_not_found`).',
      503: 'The model is loading, unhealthy or stopped (`unavailable`).',
    },
    { body: TgiErrorResponseDto },
  )
  async health(@Param('id') id: string, @Res() reply: FastifyReply): Promise<void> {
    this.generation.health(id);
    await reply.send();
  }

  @Post(':org/:name/generate')
  @HttpCode(200)
  @ApiExcludeEndpoint()
  generateRaw(
    @Param('org') org: string,
    @Param('name') name: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return this.generate(`${org}/${name}`, body, request, reply);
  }

  @Post(':org/:name/generate_stream')
  @HttpCode(200)
  @ApiExcludeEndpoint()
  generateStreamRaw(
    @Param('org') org: string,
    @Param('name') name: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return this.generateStream(`${org}/${name}`, body, request, reply);
  }

  @Post(':org/:name')
  @HttpCode(200)
  @ApiExcludeEndpoint()
  compatRaw(
    @Param('org') org: string,
    @Param('name') name: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return this.compat(`${org}/${name}`, body, request, reply);
  }

  @Get(':org/:name/info')
  @ApiExcludeEndpoint()
  infoRaw(@Param('org') org: string, @Param('name') name: string): Promise<Record<string, unknown>> {
    return this.info(`${org}/${name}`);
  }

  @Get(':org/:name/health')
  @HttpCode(200)
  @ApiExcludeEndpoint()
  healthRaw(@Param('org') org: string, @Param('name') name: string, @Res() reply: FastifyReply): Promise<void> {
    return this.health(`${org}/${name}`, reply);
  }
}
