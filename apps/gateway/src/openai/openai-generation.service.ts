import { Inject, Injectable } from '@nestjs/common';
import { ServingPath, type GenerateResult, type ServeContext } from '../serving/serving-path.service.js';
import type { ChatCompletionRequestDto } from './chat-completion-request.dto.js';
import { askedChatTokens, toChatGenerationRequest } from './chat-request-mapping.js';
import type { CompletionRequestDto } from './completion-request.dto.js';
import { toCompletionGenerationRequest } from './completion-request-mapping.js';
import { given } from './openai-request-rules.js';

/** What a prepared generation runs with: the client's side of the shared path. */
export type ServeSignals = ServeContext;

/**
 * A request that passed every rule and named a served model: its canonical id is known (every chunk carries it)
 * before it runs, and a refusal so far was thrown before any answer started.
 */
export interface PreparedGeneration {
  modelId: string;
  run(signals: ServeSignals): Promise<GenerateResult>;
}

/** The OpenAI routes' edge of the shared path: their bodies become a chat job or a TGI generate job. */
@Injectable()
export class OpenAiGenerationService {
  constructor(@Inject(ServingPath) private readonly path: ServingPath) {}

  prepareChat(body: ChatCompletionRequestDto): PreparedGeneration {
    const entry = this.path.resolve(body.model, 'model', '/v1/models');
    const { asked, param } = askedChatTokens(body);
    const maxNewTokens = this.path.maxNewTokens(entry.descriptor, asked, param);
    const request = toChatGenerationRequest(body, maxNewTokens);
    return {
      modelId: entry.descriptor.id,
      run: (signals) => this.path.serve(entry, { request, maxNewTokens }, signals),
    };
  }

  prepareCompletion(body: CompletionRequestDto): PreparedGeneration {
    const entry = this.path.resolve(body.model, 'model', '/v1/models');
    const maxNewTokens = this.path.maxNewTokens(entry.descriptor, given(body.max_tokens), 'max_tokens');
    const request = toCompletionGenerationRequest(body, maxNewTokens);
    return {
      modelId: entry.descriptor.id,
      run: (signals) => this.path.serve(entry, { request, maxNewTokens }, signals),
    };
  }
}
