import type { IncomingMessage } from 'node:http';
import type { BackendCall, ResponseReader } from './backend-call.js';
import { CHAT_FINISH_REASONS, toTokenLogprob, type WireLogprob } from './chat-wire.js';
import { GatewayError } from './gateway-error.js';
import type { GenerationOutcome } from './inference-backend.js';

/** A whole chat completion, logprobs included: bounded, far above any real one. */
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

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
export class ChatAnswerReader implements ResponseReader {
  readonly answersAtEnd = true;
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  private headers: IncomingMessage['headers'] = {};

  constructor(
    private readonly call: BackendCall,
    private readonly wantsLogprobs: boolean,
  ) {}

  begin(response: IncomingMessage): void {
    this.headers = response.headers;
  }

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.bytes <= MAX_ANSWER_BYTES) this.chunks.push(chunk);
    else
      this.call.fail(
        new GatewayError('upstream', `backend answered /v1/chat/completions with over ${MAX_ANSWER_BYTES} bytes`),
      );
  }

  end(): void {
    const now = performance.now();
    const text = Buffer.concat(this.chunks).toString('utf8');
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
    const outcome: GenerationOutcome = {
      generatedText: typeof content === 'string' ? content : '',
      finishReason,
      inputTokens: usage?.prompt_tokens ?? this.countHeader('x-prompt-tokens') ?? 0,
      outputTokens: usage?.completion_tokens ?? this.countHeader('x-generated-tokens') ?? 0,
      seed: null,
      // One answer has no first token of its own: its time to first token is the whole answer's arrival.
      timings: call.timings(now, now),
    };
    if (this.wantsLogprobs) outcome.logprobs = choice.logprobs?.content?.map(toTokenLogprob) ?? [];
    call.succeed(outcome);
  }

  private refusal(what: string, text: string): GatewayError {
    return new GatewayError('upstream', `backend answered /v1/chat/completions with ${what}: ${text.slice(0, 200)}`);
  }

  private countHeader(name: string): number | undefined {
    const value = this.headers[name];
    if (typeof value !== 'string' || !/^\d+$/.test(value)) return undefined;
    return Number(value);
  }
}
