import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { GatewayError } from '#backends';
import { ModelsService } from './models.service.js';

@ApiTags('models')
@Controller('models')
export class ModelsController {
  constructor(@Inject(ModelsService) private readonly models: ModelsService) {}

  @Get()
  @ApiOperation({ summary: 'Every model: backend, quantization, VRAM budget, memory in use, state, cold start, load.' })
  list() {
    return this.models.list();
  }

  @Get(':id')
  @ApiOperation({ summary: 'One model, by id or alias.' })
  async one(@Param('id') id: string) {
    const view = await this.models.one(id);
    if (!view) throw new GatewayError('model_not_found', `unknown model "${id}" (see GET /models)`);
    return view;
  }
}
