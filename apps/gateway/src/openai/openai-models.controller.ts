import { Controller, Get, Inject, Param, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { OpenAiModel, OpenAiModelList } from '#backends';
import { callerOf } from '../auth/caller.js';
import { ApiErrorResponses } from '../http/api-error-responses.decorator.js';
import { OpenAiErrorResponseDto, OpenAiModelDto, OpenAiModelListDto } from './openai-response.dto.js';
import { OpenAiModelsService } from './openai-models.service.js';

@ApiTags('openai')
@Controller('v1/models')
export class OpenAiModelsController {
  constructor(@Inject(OpenAiModelsService) private readonly models: OpenAiModelsService) {}

  @Get()
  @ApiOperation({ summary: "OpenAI: every model id and alias the gateway serves (with keys: in the key's scope)." })
  @ApiOkResponse({ type: OpenAiModelListDto })
  @ApiErrorResponses(
    {
      401: 'No API key, or not a valid one (`unauthorized`, code `invalid_api_key`), where the gateway has keys.',
      500: "The gateway's own fault (`internal`).",
    },
    { body: OpenAiErrorResponseDto },
  )
  list(@Req() request: FastifyRequest): OpenAiModelList {
    return this.models.list(callerOf(request));
  }

  @Get(':id')
  @ApiOperation({ summary: 'OpenAI: one model, by id or alias.' })
  @ApiOkResponse({ type: OpenAiModelDto })
  @ApiErrorResponses(
    {
      400: 'The id is not a valid URL component (`validation`).',
      401: 'No API key, or not a valid one (`unauthorized`, code `invalid_api_key`), where the gateway has keys.',
      403: "The model is outside the API key's scope (`forbidden`).",
      404: 'No model has this id or alias (`model_not_found`).',
      414: 'The id is longer than 100 characters (`validation`).',
      500: "The gateway's own fault (`internal`).",
    },
    { body: OpenAiErrorResponseDto },
  )
  one(@Param('id') id: string, @Req() request: FastifyRequest): OpenAiModel {
    return this.models.one(id, callerOf(request));
  }
}
