import { Controller, Get, Inject, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { FastifyRequest } from 'fastify';
import { ModelRegistry } from '#model-registry';
import { callerOf } from '../auth/caller.js';

/** Probes for Docker and Kubernetes: live while the process serves; ready when the required models are. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(ModelRegistry) private readonly registry: ModelRegistry,
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: 200 while the gateway process serves.' })
  live() {
    return this.health.check([() => this.indicators.check('gateway').up()]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary:
      "Readiness: 200 when every required model is ready, 503 otherwise (with each model's state; its last error too, where the caller may see it: without keys, or with an admin key).",
  })
  ready(@Req() request: FastifyRequest) {
    // Error texts can name backend addresses: with keys, only an admin key reads them here, as on /models.
    const showErrors = callerOf(request).admin;
    const required = new Set(this.registry.config.requiredForReadiness);
    return this.health.check(
      this.registry.list().map((entry) => () => {
        const { state, coldStartMs, lastError } = entry.status;
        const indicator = this.indicators.check(entry.descriptor.id);
        const data = {
          state,
          cold_start_ms: coldStartMs,
          required: required.has(entry.descriptor.id),
          ...(lastError && showErrors ? { last_error: lastError.message } : {}),
        };
        if (state === 'ready') return indicator.up(data);
        return required.has(entry.descriptor.id) ? indicator.down(data) : indicator.degraded(data);
      }),
    );
  }
}
