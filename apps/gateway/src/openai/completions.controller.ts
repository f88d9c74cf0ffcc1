import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiErrorResponses } from '../http/api-error-responses.decorator.js';
import { CompletionRequestDto } from './completion-request.dto.js';
import { replyCompletion } from './completion-replies.js';
import { OPENAI_GENERATION_ERRORS } from './openai-error-meanings.js';
import { OpenAiGenerationService } from './openai-generation.service.js';
import { CompletionDto, OpenAiErrorResponseDto } from './openai-response.dto.js';

@ApiTags('openai')
@Controller('v1')
export class CompletionsController {
  constructor(@Inject(OpenAiGenerationService) private readonly generation: OpenAiGenerationService) {}

  @Post('completions')
  @HttpCode(200)
  @ApiOperation({ summary: "OpenAI (legacy): continue a prompt; `stream: true` answers OpenAI's chunks." })
  @ApiBody({ type: CompletionRequestDto })
  @ApiOkResponse({ type: CompletionDto })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiErrorResponses(OPENAI_GENERATION_ERRORS, { body: OpenAiErrorResponseDto })
  complete(
    @Body() body: CompletionRequestDto,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return replyCompletion(() => this.generation.prepareCompletion(body), body, request, reply);
  }
}
