import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { GatewayError } from '#backends';
import { ApiErrorResponses } from '../http/api-error-responses.decorator.js';
import { ModelListDto, ModelViewDto } from './model-view.dto.js';
import { ModelsService } from './models.service.js';

@ApiTags('models')
@Controller('models')
export class ModelsController {
  constructor(@Inject(ModelsService) private readonly models: ModelsService) {}

  @Get()
  @ApiOperation({ summary: 'Every model: backend, quantization, VRAM budget, memory in use, state, cold start, load.' })
  @ApiOkResponse({ type: ModelListDto })
  @ApiErrorResponses({ 500: "The gateway's own fault (`internal`)." })
  list(): Promise<ModelListDto> {
    return this.models.list();
  }

  @Get(':id')
  @ApiOperation({ summary: 'One model, by id or alias.' })
  @ApiOkResponse({ type: ModelViewDto })
  @ApiErrorResponses({
    400: 'The id is not a valid URL component (`validation`).',
    404: 'No model has this id or alias (`model_not_found`).',
    414: 'The id is longer than 100 characters (`validation`).',
    500: "The gateway's own fault (`internal`).",
  })
  async one(@Param('id') id: string): Promise<ModelViewDto> {
    const view = await this.models.one(id);
    if (!view) throw new GatewayError('model_not_found', `unknown model "${id}" (see GET /models)`);
    return view;
  }
}
