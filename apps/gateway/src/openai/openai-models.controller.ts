import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { OpenAiModel, OpenAiModelList } from '#backends';
import { ApiErrorResponses } from '../http/api-error-responses.decorator.js';
import { OpenAiErrorResponseDto, OpenAiModelDto, OpenAiModelListDto } from './openai-response.dto.js';
import { OpenAiModelsService } from './openai-models.service.js';

@ApiTags('openai')
@Controller('v1/models')
export class OpenAiModelsController {
  constructor(@Inject(OpenAiModelsService) private readonly models: OpenAiModelsService) {}

  @Get()
  @ApiOperation({ summary: 'OpenAI: every model id and alias the gateway serves.' })
  @ApiOkResponse({ type: OpenAiModelListDto })
  @ApiErrorResponses({ 500: "The gateway's own fault (`internal`)." }, { body: OpenAiErrorResponseDto })
  list(): OpenAiModelList {
    return this.models.list();
  }

  @Get(':id')
  @ApiOperation({ summary: 'OpenAI: one model, by id or alias.' })
  @ApiOkResponse({ type: OpenAiModelDto })
  @ApiErrorResponses(
    {
      400: 'The id is not a valid URL component (`validation`).',
      404: 'No model has this id or alias (`model_not_found`).',
      414: 'The id is longer than 100 characters (`validation`).',
      500: "The gateway's own fault (`internal`).",
    },
    { body: OpenAiErrorResponseDto },
  )
  one(@Param('id') id: string): OpenAiModel {
    return this.models.one(id);
  }
}
