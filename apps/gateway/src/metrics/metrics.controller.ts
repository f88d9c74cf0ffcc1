import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { GatewayMetrics } from '#metrics';

@ApiTags('operations')
@Controller()
export class MetricsController {
  constructor(@Inject(GatewayMetrics) private readonly metrics: GatewayMetrics) {}

  @Get('metrics')
  @Header('cache-control', 'no-store')
  @ApiOperation({
    summary:
      'Prometheus metrics: requests, tokens, latency, queue wait, time to first token, gateway overhead, model gauges.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'The Prometheus text exposition format.' })
  async exposition(@Res() reply: FastifyReply): Promise<void> {
    const { prometheus } = this.metrics;
    await reply.header('content-type', prometheus.contentType).send(await prometheus.exposition());
  }
}
