import { randomBytes } from 'node:crypto';
import type {
  ChatDelta,
  GenerationOutcome,
  OpenAiChatCompletion,
  OpenAiChatCompletionChunk,
  OpenAiCompletion,
  OpenAiFinishReason,
  OpenAiUsage,
  TgiFinishReason,
} from '#backends';

/** What OpenAI clients read as the configuration that produced an answer: the gateway and its API version. */
export const SYSTEM_FINGERPRINT = 'sluice-0.1.0';

/** What every answer and chunk of one request shares. */
export interface AnswerHeader {
  id: string;
  created: number;
  /** The canonical model id, whatever alias the request named. */
  model: string;
  system_fingerprint: string;
}

export function answerHeader(prefix: 'chatcmpl' | 'cmpl', model: string): AnswerHeader {
  return {
    id: `${prefix}-${randomBytes(12).toString('hex')}`,
    created: Math.floor(Date.now() / 1000),
    model,
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}

/** An end-of-sequence token and a stop sequence are both `stop` to OpenAI. */
export function finishReasonOf(reason: TgiFinishReason): OpenAiFinishReason {
  return reason === 'length' ? 'length' : 'stop';
}

export function usageOf(outcome: GenerationOutcome): OpenAiUsage {
  return {
    prompt_tokens: outcome.inputTokens,
    completion_tokens: outcome.outputTokens,
    total_tokens: outcome.inputTokens + outcome.outputTokens,
  };
}

export function chatCompletion(header: AnswerHeader, outcome: GenerationOutcome): OpenAiChatCompletion {
  return {
    ...header,
    object: 'chat.completion',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: outcome.generatedText, refusal: null },
        logprobs: outcome.logprobs ? { content: outcome.logprobs } : null,
        finish_reason: finishReasonOf(outcome.finishReason),
      },
    ],
    usage: usageOf(outcome),
  };
}

/**
 * The chunks of a streamed chat answer, in OpenAI's order: the role, the content deltas, an empty delta with the
 * finish reason, and (with include_usage) one with no choices and the usage; every other chunk then says `usage: null`.
 */
export class ChatChunks {
  constructor(
    private readonly header: AnswerHeader,
    private readonly includeUsage: boolean,
  ) {}

  role(): OpenAiChatCompletionChunk {
    return this.chunk({ role: 'assistant', content: '' }, null, null);
  }

  content({ content, logprobs }: ChatDelta): OpenAiChatCompletionChunk {
    return this.chunk({ content }, logprobs ? { content: logprobs } : null, null);
  }

  finish(outcome: GenerationOutcome): OpenAiChatCompletionChunk {
    return this.chunk({}, null, finishReasonOf(outcome.finishReason));
  }

  usage(outcome: GenerationOutcome): OpenAiChatCompletionChunk {
    return { ...this.header, object: 'chat.completion.chunk', choices: [], usage: usageOf(outcome) };
  }

  private chunk(
    delta: OpenAiChatCompletionChunk['choices'][number]['delta'],
    logprobs: OpenAiChatCompletionChunk['choices'][number]['logprobs'],
    finishReason: OpenAiFinishReason | null,
  ): OpenAiChatCompletionChunk {
    return {
      ...this.header,
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta, logprobs, finish_reason: finishReason }],
      ...(this.includeUsage ? { usage: null } : {}),
    };
  }
}

export function completion(header: AnswerHeader, text: string, outcome: GenerationOutcome): OpenAiCompletion {
  return {
    ...header,
    object: 'text_completion',
    choices: [{ index: 0, text, logprobs: null, finish_reason: finishReasonOf(outcome.finishReason) }],
    usage: usageOf(outcome),
  };
}

/** The chunks of a streamed completion: text pieces, an empty one with the finish reason, then the usage if asked. */
export class CompletionChunks {
  constructor(
    private readonly header: AnswerHeader,
    private readonly includeUsage: boolean,
  ) {}

  text(text: string): OpenAiCompletion {
    return this.chunk(text, null);
  }

  finish(outcome: GenerationOutcome): OpenAiCompletion {
    return this.chunk('', finishReasonOf(outcome.finishReason));
  }

  usage(outcome: GenerationOutcome): OpenAiCompletion {
    return { ...this.header, object: 'text_completion', choices: [], usage: usageOf(outcome) };
  }

  private chunk(text: string, finishReason: OpenAiFinishReason | null): OpenAiCompletion {
    return {
      ...this.header,
      object: 'text_completion',
      choices: [{ index: 0, text, logprobs: null, finish_reason: finishReason }],
      ...(this.includeUsage ? { usage: null } : {}),
    };
  }
}
