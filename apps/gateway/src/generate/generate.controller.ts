import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiErrorResponses } from '../http/api-error-responses.decorator.js';
import { exchangeOf } from '../http/exchange.js';
import { GenerateRequestDto } from './generate-request.dto.js';
import { answerGenerate } from './generate-answer.js';
import { GenerateResponseDto } from './generate-response.dto.js';
import { GenerateService } from './generate.service.js';

@ApiTags('generation')
@Controller('v1')
export class GenerateController {
  constructor(@Inject(GenerateService) private readonly generation: GenerateService) {}

  @Post('generate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Generate text with a model; `stream: true` answers TGI-style server-sent events.' })
  @ApiBody({ type: GenerateRequestDto })
  @ApiOkResponse({ type: GenerateResponseDto })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiErrorResponses({
    400: "The body is not valid JSON, or is empty; or the backend's own 400 (`validation`).",
    401: 'No API key, or not a valid one (`unauthorized`), where the gateway has keys.',
    403: "`model_id` is outside the API key's scope (`forbidden`).",
    404: 'Unknown `model_id` (`model_not_found`).',
    413: 'The body is over BODY_LIMIT_BYTES (`validation`).',
    415: 'A content type other than application/json (`validation`).',
    422: "A field is wrong, missing, unknown or out of range, `max_new_tokens` is above the model's ceiling, or the backend refused the input (`validation`).",
    429: "The model's queue is full, or its backend is overloaded (`overloaded`); or the API key is at one of its own limits (`rate_limited`, with x-ratelimit-* headers).",
    500: "The gateway's own fault (`internal`).",
    502: 'The backend failed (`upstream`). After the first streamed token, errors arrive as the last event instead.',
    503: 'The model is unhealthy, still cold at the deadline or unreachable, or the gateway is shutting down (`unavailable`).',
    504: 'A connect, first-token, inter-token or total timeout, or the deadline passed in the queue (`timeout`).',
  })
  async generate(
    @Body() body: GenerateRequestDto,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    reply.hijack();
    await answerGenerate(this.generation, body, exchangeOf(request, reply));
  }
}
