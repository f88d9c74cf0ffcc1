import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TgiStreamEvent } from '#backends';
import { ApiErrorResponses } from '../http/api-error-responses.decorator.js';
import { answerWhileConnected, type ClientSide } from '../http/client-disconnect.js';
import { errorAnswer } from '../http/exception.filter.js';
import { SseResponse } from '../http/sse-response.js';
import { noteResult } from '../metrics/request-observation.js';
import { GenerateRequestDto } from './generate-request.dto.js';
import { GenerateResponseDto, toGenerateResponse } from './generate-response.dto.js';
import { GenerateService } from './generate.service.js';
import { answerDetails, DetailsCollector } from '../tgi/tgi-details.js';

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
    await answerWhileConnected(request, reply, async (client) => {
      if (body.stream) await this.stream(body, request, reply, client);
      else {
        const details = body.parameters?.details === true;
        const collector = new DetailsCollector((body.parameters?.top_n_tokens ?? 0) > 0);
        const result = await this.generation.generate(body, {
          ...client,
          ...(details ? { onToken: collector.onToken } : {}),
        });
        noteResult(request.raw, result);
        const response = toGenerateResponse(
          result,
          request.id,
          reply.elapsedTime,
          details ? answerDetails(result.outcome, collector) : undefined,
        );
        await reply.header('x-gateway-overhead-ms', String(response.gateway_overhead_ms)).send(response);
      }
    });
  }

  /** Relays the backend's events as they come; the last one also carries the gateway's summary. */
  private async stream(
    body: GenerateRequestDto,
    request: FastifyRequest,
    reply: FastifyReply,
    client: ClientSide,
  ): Promise<void> {
    reply.hijack();
    const sse = new SseResponse(reply.raw, { 'x-request-id': request.id });
    let finalEvent: TgiStreamEvent | undefined;
    try {
      const result = await this.generation.generate(body, {
        ...client,
        onToken: (event) => {
          if (event.generated_text === null) sse.send(event);
          else finalEvent = event; // held back: it goes out with the gateway's summary below
        },
      });
      noteResult(request.raw, result);
      sse.finish([JSON.stringify({ ...finalEvent, ...toGenerateResponse(result, request.id, reply.elapsedTime) })]);
    } catch (error) {
      if (!client.departed.aborted) sse.fail(errorAnswer(error, request));
    } finally {
      sse.end();
    }
  }
}
