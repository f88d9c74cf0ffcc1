import type { BackendCall, ResponseReader } from './backend-call.js';
import { FINISH_REASONS, toTokenLogprob, type WireLogprob } from './chat-chunk-reader.js';
import { GatewayError } from './gateway-error.js';
import type { GenerationOutcome } from './inference-backend.js';

/** A ChatCompletion is the whole answer (with logprobs, every token's): bounded, far above any real one. */
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

/** A non-streamed ChatCompletion as OpenAI-protocol servers send it (TGI 3.x, vLLM, llama-server): what is read. */
interface ChatCompletionOnTheWire {
  choices?: Array<{
    message?: { content?: string | null } | null;
    logprobs?: { content?: WireLogprob[] | null } | null;
    finish_reason?: string | null;
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
}

/**
 * `POST /v1/chat/completions` with `stream: false`: one ChatCompletion, for a chat nobody reads before its end. It
 * makes the outcome the stream's reader would have made of the same answer: the text, the finish reason in TGI's
 * terms, the usage, the logprobs when asked. The headers come when the generation is done: they end the first-byte
 * wait.
 */
export class ChatAnswerReader implements ResponseReader {
  private readonly chunks: Buffer[] = [];
  private bytes = 0;

  constructor(
    private readonly call: BackendCall,
    private readonly wantsLogprobs: boolean,
  ) {}

  begin(): void {
    this.call.answerStarted();
  }

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.bytes <= MAX_ANSWER_BYTES) this.chunks.push(chunk);
    else this.call.fail(new GatewayError('upstream', `backend answered the chat with over ${MAX_ANSWER_BYTES} bytes`));
  }

  end(): void {
    const now = performance.now();
    const text = Buffer.concat(this.chunks).toString('utf8');
    let answer: ChatCompletionOnTheWire | undefined;
    try {
      answer = JSON.parse(text) as ChatCompletionOnTheWire;
    } catch {
      answer = undefined;
    }
    const choice = typeof answer === 'object' && answer !== null ? answer.choices?.[0] : undefined;
    const content = choice?.message?.content ?? '';
    if (choice === undefined || typeof content !== 'string') {
      return this.call.fail(
        new GatewayError('upstream', `backend answered the chat with no ChatCompletion: ${text.slice(0, 200)}`),
      );
    }
    const reason = choice.finish_reason;
    const finishReason = reason == null ? undefined : FINISH_REASONS[reason];
    if (finishReason === undefined)
      return this.call.fail(new GatewayError('upstream', `backend finished with an unknown finish_reason "${reason}"`));
    const usage = answer!.usage;
    const outcome: GenerationOutcome = {
      generatedText: content,
      finishReason,
      // As the stream's reader: a server without usage says nothing of the prompt (0); its output is then unknown too.
      inputTokens: usage?.prompt_tokens ?? 0,
      outputTokens: usage?.completion_tokens ?? 0,
      seed: null,
      // One answer has no first token of its own: its time to first token is the whole answer's arrival.
      timings: this.call.timings(now, now),
    };
    if (this.wantsLogprobs) outcome.logprobs = (choice.logprobs?.content ?? []).map(toTokenLogprob);
    this.call.succeed(outcome);
  }
}
