import type {
  ChatDelta,
  GenerationOutcome,
  OpenAiChatCompletion,
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

/** The answer's id carries the request id (x-request-id), so a client's answer and the gateway's log join up. */
export function answerHeader(prefix: 'chatcmpl' | 'cmpl', model: string, requestId: string): AnswerHeader {
  return {
    id: `${prefix}-${requestId}`,
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

/** The header's fields written out: a spread followed by more keys costs ten times a literal (CONTRIBUTING.md). */
export function chatCompletion(
  { id, created, model, system_fingerprint }: AnswerHeader,
  outcome: GenerationOutcome,
  content = outcome.generatedText,
): OpenAiChatCompletion {
  return {
    id,
    created,
    model,
    system_fingerprint,
    object: 'chat.completion',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null },
        logprobs: outcome.logprobs ? { content: outcome.logprobs } : null,
        finish_reason: finishReasonOf(outcome.finishReason),
      },
    ],
    usage: usageOf(outcome),
  };
}

/**
 * The JSON text every chunk of one stream starts with (its fields before `choices`, without the closing brace): the
 * same for every chunk, so it is written once per request and each chunk only adds its own piece (a chunk per token
 * is the hot path).
 */
function chunkFields({ id, created, model, system_fingerprint }: AnswerHeader, object: string): string {
  return `{"id":${JSON.stringify(id)},"object":"${object}","created":${created},"model":${JSON.stringify(model)},"system_fingerprint":"${system_fingerprint}"`;
}

/**
 * The chunks of a streamed chat answer, as JSON text in OpenAI's order: the role, the content deltas, an empty delta
 * with the finish reason, and (with include_usage) one with no choices and the usage; every other chunk then says
 * `usage: null`.
 */
export class ChatChunks {
  private readonly fields: string;
  private readonly opening: string;
  private readonly closing: string;

  constructor(header: AnswerHeader, includeUsage: boolean) {
    this.fields = chunkFields(header, 'chat.completion.chunk');
    this.opening = `${this.fields},"choices":[{"index":0,`;
    this.closing = includeUsage ? '}],"usage":null}' : '}]}';
  }

  role(): string {
    return `${this.opening}"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null${this.closing}`;
  }

  content({ content, logprobs }: ChatDelta): string {
    const logprobsJson = logprobs ? JSON.stringify({ content: logprobs }) : 'null';
    return `${this.opening}"delta":{"content":${JSON.stringify(content)}},"logprobs":${logprobsJson},"finish_reason":null${this.closing}`;
  }

  finish(outcome: GenerationOutcome): string {
    return `${this.opening}"delta":{},"logprobs":null,"finish_reason":"${finishReasonOf(outcome.finishReason)}"${this.closing}`;
  }

  usage(outcome: GenerationOutcome): string {
    return `${this.fields},"choices":[],"usage":${JSON.stringify(usageOf(outcome))}}`;
  }
}

export function completion(
  { id, created, model, system_fingerprint }: AnswerHeader,
  text: string,
  outcome: GenerationOutcome,
): OpenAiCompletion {
  return {
    id,
    created,
    model,
    system_fingerprint,
    object: 'text_completion',
    choices: [{ index: 0, text, logprobs: null, finish_reason: finishReasonOf(outcome.finishReason) }],
    usage: usageOf(outcome),
  };
}

/** The chunks of a streamed completion, as JSON text: text pieces, an empty one with the finish reason, then the usage if asked. */
export class CompletionChunks {
  private readonly fields: string;
  private readonly opening: string;
  private readonly closing: string;

  constructor(header: AnswerHeader, includeUsage: boolean) {
    this.fields = chunkFields(header, 'text_completion');
    this.opening = `${this.fields},"choices":[{"index":0,`;
    this.closing = includeUsage ? '}],"usage":null}' : '}]}';
  }

  text(text: string): string {
    return `${this.opening}"text":${JSON.stringify(text)},"logprobs":null,"finish_reason":null${this.closing}`;
  }

  finish(outcome: GenerationOutcome): string {
    return `${this.opening}"text":"","logprobs":null,"finish_reason":"${finishReasonOf(outcome.finishReason)}"${this.closing}`;
  }

  usage(outcome: GenerationOutcome): string {
    return `${this.fields},"choices":[],"usage":${JSON.stringify(usageOf(outcome))}}`;
  }
}
