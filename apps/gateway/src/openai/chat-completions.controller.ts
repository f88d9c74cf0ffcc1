import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChatDelta } from '#backends';
import { ApiErrorResponses } from '../http/api-error-responses.decorator.js';
import { answerWhileConnected, type ClientSide } from '../http/client-disconnect.js';
import { SseResponse } from '../http/sse-response.js';
import { noteResult } from '../metrics/request-observation.js';
import { ChatCompletionRequestDto } from './chat-completion-request.dto.js';
import { answerHeader, chatCompletion, ChatChunks } from './openai-answers.js';
import { OPENAI_GENERATION_ERRORS } from './openai-error-meanings.js';
import { OpenAiGenerationService, type PreparedGeneration } from './openai-generation.service.js';
import { stopSequences } from './openai-request-rules.js';
import { endOpenAiStream } from './openai-stream-end.js';
import { cutAtStop, StopSequenceHoldback } from './stop-sequence-holdback.js';
import { ChatCompletionDto, OpenAiErrorResponseDto } from './openai-response.dto.js';

@ApiTags('openai')
@Controller('v1')
export class ChatCompletionsController {
  constructor(@Inject(OpenAiGenerationService) private readonly generation: OpenAiGenerationService) {}

  @Post('chat/completions')
  @HttpCode(200)
  @ApiOperation({
    summary: "OpenAI: a chat completion through the model's chat template; `stream: true` answers OpenAI's chunks.",
  })
  @ApiBody({ type: ChatCompletionRequestDto })
  @ApiOkResponse({ type: ChatCompletionDto })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiErrorResponses(OPENAI_GENERATION_ERRORS, { body: OpenAiErrorResponseDto })
  async chat(
    @Body() body: ChatCompletionRequestDto,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await answerWhileConnected(request, reply, async (client) => {
      const prepared = this.generation.prepareChat(body);
      if (body.stream) await this.stream(prepared, body, request, reply, client);
      else {
        const result = await prepared.run(client);
        noteResult(request.raw, result);
        const { outcome } = result;
        const content = cutAtStop(outcome.generatedText, stopSequences(body.stop) ?? []);
        await reply.send(
          chatCompletion(answerHeader('chatcmpl', result.modelId, request.id), { ...outcome, generatedText: content }),
        );
      }
    });
  }

  /** The role chunk goes out with the first delta, so a refusal before it is still an HTTP error. */
  private async stream(
    prepared: PreparedGeneration,
    body: ChatCompletionRequestDto,
    request: FastifyRequest,
    reply: FastifyReply,
    client: ClientSide,
  ): Promise<void> {
    reply.hijack();
    const sse = new SseResponse(reply.raw, { 'x-request-id': request.id }, { framing: 'openai' });
    const includeUsage = body.stream_options?.include_usage === true;
    const chunks = new ChatChunks(answerHeader('chatcmpl', prepared.modelId, request.id), includeUsage);
    const holdback = new StopSequenceHoldback(stopSequences(body.stop) ?? []);
    /** The chunks for these deltas, after the role chunk if nothing was sent yet. */
    const chunksOf = (deltas: ChatDelta[]): string[] => {
      const out = sse.hasStarted ? [] : [chunks.role()];
      for (const delta of deltas) out.push(chunks.content(delta));
      return out;
    };
    const run = () =>
      prepared.run({
        ...client,
        onDelta: (delta) => {
          const events = chunksOf(holdback.push(delta));
          if (events.length > 0) sse.sendJson(...events);
        },
      });
    await endOpenAiStream(sse, request, client, run, {
      heldBack: () => chunksOf(holdback.flush()),
      chunks,
      includeUsage,
    });
  }
}
