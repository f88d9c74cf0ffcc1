import type { BackendCall } from './backend-call.js';
import { CHAT_FINISH_REASONS, toTokenLogprob, type WireLogprob } from './chat-wire.js';
import { GatewayError } from './gateway-error.js';
import type { GenerationOutcome } from './inference-backend.js';
import { plainChatAnswer } from './plain-chat-json.js';
import type { TgiFinishReason } from './tgi-protocol.js';
import { WholeAnswerReader } from './whole-answer-reader.js';

/** `POST /v1/chat/completions` answered in one piece (`stream: false`), as OpenAI-protocol servers send it. */
interface ChatCompletionOnTheWire {
  choices?: Array<{
    message?: { content?: string | null } | null;
    logprobs?: { content?: WireLogprob[] | null } | null;
    finish_reason?: string | null;
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: unknown;
}

/**
 * A chat completion nobody streams, read from the backend's one answer (`stream: false`): the same outcome as
 * ChatChunkReader gives for the stream of the same generation, without an event per token to parse. The usage is in
 * the answer; TGI and our engine also send the counts as `x-prompt-tokens` / `x-generated-tokens` headers, read when
 * a server leaves the usage out. The answer comes only once the generation is done.
 */
export class ChatAnswerReader extends WholeAnswerReader {
  constructor(
    call: BackendCall,
    private readonly wantsLogprobs: boolean,
  ) {
    super(call, '/v1/chat/completions');
  }

  protected read(text: string, now: number): void {
    // TGI's ordinary answer is read without parsing it (plain-chat-json.ts); any other is parsed.
    const plain = plainChatAnswer(text);
    if (plain !== undefined) {
      const { content, finishReason, promptTokens, completionTokens } = plain;
      return this.succeed(content, CHAT_FINISH_REASONS[finishReason]!, promptTokens, completionTokens, null, now);
    }
    const { call } = this;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      return call.fail(this.refusal('a body that is not a JSON object', text));
    const answer = parsed as ChatCompletionOnTheWire;
    if (answer.error !== undefined) return call.failWithErrorEvent(answer);
    const choice = answer.choices?.[0];
    if (typeof choice !== 'object' || choice === null) return call.fail(this.refusal('no choice', text));
    const reason = choice.finish_reason;
    const finishReason = typeof reason === 'string' ? CHAT_FINISH_REASONS[reason] : undefined;
    if (finishReason === undefined)
      return call.fail(new GatewayError('upstream', `backend finished with an unknown finish_reason "${reason}"`));
    const content = choice.message?.content;
    const { usage } = answer;
    this.succeed(
      typeof content === 'string' ? content : '',
      finishReason,
      usage?.prompt_tokens ?? this.countHeader('x-prompt-tokens') ?? 0,
      usage?.completion_tokens ?? this.countHeader('x-generated-tokens') ?? 0,
      choice.logprobs?.content ?? null,
      now,
    );
  }

  private succeed(
    generatedText: string,
    finishReason: TgiFinishReason,
    inputTokens: number,
    outputTokens: number,
    logprobs: WireLogprob[] | null,
    now: number,
  ): void {
    const outcome: GenerationOutcome = {
      generatedText,
      finishReason,
      inputTokens,
      outputTokens,
      seed: null,
      // One answer has no first token of its own: its time to first token is the whole answer's arrival.
      timings: this.call.timings(now, now),
    };
    if (this.wantsLogprobs) outcome.logprobs = logprobs?.map(toTokenLogprob) ?? [];
    this.call.succeed(outcome);
  }
}
