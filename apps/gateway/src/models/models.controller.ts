import { Controller, Get, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { GatewayError } from '#backends';
import { callerOf } from '../auth/caller.js';
import { ApiErrorResponses } from '../http/api-error-responses.decorator.js';
import { ModelListDto, ModelSummaryDto, ModelSummaryListDto, ModelViewDto } from './model-view.dto.js';
import { ModelsService } from './models.service.js';

const UNAUTHORIZED = 'No API key, or not a valid one (`unauthorized`), where the gateway has keys.';

/** What POST /models/{id}/load and /unload answer alike when they do not answer the model's view. */
const RESIDENCY_ROUTE_ERRORS = {
    401: UNAUTHORIZED,
    403: 'The key has no admin scope (`forbidden`).',
    404: 'No model has this id or alias (`model_not_found`).',
    409: 'The model is served by a server the gateway does not run (`validation`).',
    500: "The gateway's own fault (`internal`).",
} as const;

@ApiTags('models')
@ApiExtraModels(ModelListDto, ModelSummaryListDto, ModelViewDto, ModelSummaryDto)
@Controller('models')
export class ModelsController {
  constructor(@Inject(ModelsService) private readonly models: ModelsService) {}

  @Get()
  @ApiOperation({
    summary:
      "Every model: backend, quantization, VRAM budget, memory in use, state, cold start, load. A key without the admin scope gets each model's id, aliases, state and VRAM budget only, for the models in its scope.",
  })
  @ApiOkResponse({ schema: { oneOf: [{ $ref: getSchemaPath(ModelListDto) }, { $ref: getSchemaPath(ModelSummaryListDto) }] } })
  @ApiErrorResponses({ 401: UNAUTHORIZED, 500: "The gateway's own fault (`internal`)." })
  list(@Req() request: FastifyRequest): Promise<ModelListDto | ModelSummaryListDto> {
    return this.models.list(callerOf(request));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One model, by id or alias (without the admin scope: its summary).' })
  @ApiOkResponse({ schema: { oneOf: [{ $ref: getSchemaPath(ModelViewDto) }, { $ref: getSchemaPath(ModelSummaryDto) }] } })
  @ApiErrorResponses({
    400: 'The id is not a valid URL component (`validation`).',
    401: UNAUTHORIZED,
    403: "The model is outside the API key's scope (`forbidden`).",
    404: 'No model has this id or alias (`model_not_found`).',
    414: 'The id is longer than 100 characters (`validation`).',
    500: "The gateway's own fault (`internal`).",
  })
  async one(@Param('id') id: string, @Req() request: FastifyRequest): Promise<ModelViewDto | ModelSummaryDto> {
    const view = await this.models.one(id, callerOf(request));
    if (!view) throw new GatewayError('model_not_found', `unknown model "${id}" (see GET /models)`);
    return view;
  }

  @Post(':id/load')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Loads the model now, making room on its GPU by unloading idle models on demand (least recently used first), and answers its view once it serves. It then stays for its keep_alive. Admin scope.',
  })
  @ApiOkResponse({ type: ModelViewDto })
  @ApiErrorResponses({
    ...RESIDENCY_ROUTE_ERRORS,
    503: 'It could not load: its start failed (the reason), or no room could be made on its GPU within its startup_ms (`unavailable`, Retry-After).',
  })
  load(@Param('id') id: string, @Req() request: FastifyRequest): Promise<ModelViewDto> {
    return this.models.load(id, callerOf(request));
  }

  @Post(':id/unload')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Unloads the model once its requests in flight and queued have ended, frees its VRAM budget, and answers its view. A later request loads it again. Admin scope.',
  })
  @ApiOkResponse({ type: ModelViewDto })
  @ApiErrorResponses(RESIDENCY_ROUTE_ERRORS)
  unload(@Param('id') id: string, @Req() request: FastifyRequest): Promise<ModelViewDto> {
    return this.models.unload(id, callerOf(request));
  }
}
