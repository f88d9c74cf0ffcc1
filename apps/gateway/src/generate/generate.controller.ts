import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TgiStreamEvent } from '#backends';
import { abortOnClientDisconnect } from '../http/client-disconnect.js';
import { errorResponse } from '../http/error-body.js';
import { SseResponse } from '../http/sse-response.js';
import { noteError, noteResult } from '../metrics/request-observation.js';
import { GenerateRequestDto } from './generate-request.dto.js';
import { GenerateResponseDto, toGenerateResponse } from './generate-response.dto.js';
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
  async generate(
    @Body() body: GenerateRequestDto,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const disconnect = abortOnClientDisconnect(reply.raw);
    try {
      if (body.stream) await this.stream(body, request, reply, disconnect.signal);
      else {
        const result = await this.generation.generate(body, { signal: disconnect.signal });
        noteResult(request.raw, result);
        const response = toGenerateResponse(result, request.id, reply.elapsedTime);
        await reply.header('x-gateway-overhead-ms', String(response.gateway_overhead_ms)).send(response);
      }
    } finally {
      disconnect.dispose();
    }
  }

  /** Relays the backend's events as they come; the last one also carries the gateway's summary. */
  private async stream(
    body: GenerateRequestDto,
    request: FastifyRequest,
    reply: FastifyReply,
    signal: AbortSignal,
  ): Promise<void> {
    reply.hijack();
    const sse = new SseResponse(reply.raw, { 'x-request-id': request.id });
    let finalEvent: TgiStreamEvent | undefined;
    try {
      const result = await this.generation.generate(body, {
        signal,
        onToken: (event) => {
          if (event.generated_text === null) sse.send(event);
          else finalEvent = event; // held back: it goes out with the gateway's summary below
        },
      });
      noteResult(request.raw, result);
      sse.send({ ...finalEvent, ...toGenerateResponse(result, request.id, reply.elapsedTime) });
    } catch (error) {
      if (signal.aborted) return;
      const { status, body: errorBody, headers } = errorResponse(error, request.id);
      noteError(request.raw, errorBody.error_type);
      if (sse.hasStarted)
        sse.send(errorBody); // after the first token only the stream can carry it
      else {
        reply.raw.writeHead(status, {
          'content-type': 'application/json; charset=utf-8',
          'x-request-id': request.id,
          ...headers,
        });
        reply.raw.write(JSON.stringify(errorBody));
      }
    } finally {
      sse.end();
    }
  }
}
