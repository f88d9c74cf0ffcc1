import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiErrorResponses } from '../http/api-error-responses.decorator.js';
import { ChatCompletionRequestDto } from './chat-completion-request.dto.js';
import { OPENAI_GENERATION_ERRORS } from './openai-error-meanings.js';
import { OpenAiGenerationService } from './openai-generation.service.js';
import { answerChat } from './chat-answer.js';
import { exchangeOf } from '../http/exchange.js';
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
    reply.hijack();
    await answerChat(this.generation, body, exchangeOf(request, reply));
  }
}
