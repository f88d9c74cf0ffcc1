import { Controller, Get, Inject, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { FastifyRequest } from 'fastify';
import { ModelRegistry } from '#model-registry';
import { callerOf } from '../auth/caller.js';
import { DispatchQueueHost } from '../dispatch.providers.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway-config.js';

/**
 * Probes for Docker and Kubernetes: live while the process serves; ready when the required models are, and (with
 * REDIS_URL, unless READINESS_REDIS=ignored) when the dispatch queue's Redis answers.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(ModelRegistry) private readonly registry: ModelRegistry,
    @Inject(DispatchQueueHost) private readonly dispatch: DispatchQueueHost,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
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
      "Readiness: 200 when every required model is ready and, with REDIS_URL, the dispatch queue's Redis answers; 503 otherwise (with each model's state; its last error too, where the caller may see it: without keys, or with an admin key; and why the queue is unreachable).",
  })
  ready(@Req() request: FastifyRequest) {
    // Error texts can name backend addresses: with keys, only an admin key reads them here, as on /models.
    const showErrors = callerOf(request).admin;
    const required = new Set(this.registry.config.requiredForReadiness);
    return this.health.check([
      ...this.registry.list().map((entry) => () => {
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
      ...(this.config.redisUrl ? [() => this.dispatchQueue()] : []),
    ]);
  }

  /** Every generation goes through the queue: with its Redis unreachable, each would be answered 503. */
  private async dispatchQueue() {
    const indicator = this.indicators.check('dispatch_queue');
    const required = this.config.readinessRedis === 'required';
    const reason = await this.dispatch.unreachableReason();
    if (reason === null) return indicator.up({ backend: 'redis', required });
    return required
      ? indicator.down({ backend: 'redis', required, reason })
      : indicator.degraded({ backend: 'redis', required, reason });
  }
}
