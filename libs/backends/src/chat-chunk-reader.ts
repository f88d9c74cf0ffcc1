import { GatewayError } from './gateway-error.js';
import type { GenerationOutcome } from './inference-backend.js';
import type { OpenAiTokenLogprob } from './openai-protocol.js';
import { CLOSED_EARLY, type BackendCall } from './backend-call.js';
import { CHAT_FINISH_REASONS, toTokenLogprob, type WireLogprob } from './chat-wire.js';
import type { SseEventReader } from './sse-call.js';
import type { TgiFinishReason } from './tgi-protocol.js';

/**
 * A chunk of `POST /v1/chat/completions` as OpenAI-protocol servers send it: TGI 3.x (a `role` in every delta, an
 * `eos_token` or `stop_sequence` finish reason, logprobs without `bytes`), vLLM and llama-server (a role-only first
 * chunk, an empty `delta` with the finish reason, `stop` for both ends). Only what the reader uses.
 */
interface ChatChunkOnTheWire {
  choices?: Array<{
    delta?: { content?: string | null } | null;
    logprobs?: { content?: WireLogprob[] | null } | null;
    finish_reason?: string | null;
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: unknown;
}

const DONE = '[DONE]';

/**
 * Reads one chat call's chunks: relays each piece of text through `onDelta`, and keeps the text, the logprobs, the
 * finish reason and the usage for the outcome. Every chunk counts as progress for the timers and the time to first
 * token, also a role-only or empty one, although only a chunk with text is a delta. The stream is complete at
 * `data: [DONE]`, or at a clean end after a finish reason (servers that omit `[DONE]`; openai-node accepts that too).
 */
export class ChatChunkReader implements SseEventReader {
  private text = '';
  private readonly logprobs: OpenAiTokenLogprob[] = [];
  private finishReason: TgiFinishReason | undefined;
  private inputTokens: number | undefined;
  private outputTokens: number | undefined;
  /** Chunks with text: the token count of a server that sends no usage (below). */
  private textChunks = 0;
  private lastEventAt = 0;

  constructor(private readonly wantsLogprobs: boolean) {}

  read(data: string, call: BackendCall): void {
    this.lastEventAt = call.eventArrived();
    if (data === DONE) return this.complete(call, 'backend sent `[DONE]` before any finish_reason');
    const chunk = call.parseObject(data) as ChatChunkOnTheWire | undefined;
    if (chunk === undefined) return;
    if (chunk.error !== undefined) return call.failWithErrorEvent(chunk);
    const { usage } = chunk;
    if (usage != null) {
      this.inputTokens = usage.prompt_tokens;
      this.outputTokens = usage.completion_tokens;
    }
    const choice = chunk.choices?.[0];
    if (choice === undefined) return; // the usage chunk has no choice
    const logprobs = choice.logprobs?.content;
    // Every token's logprob, also the EOS token's that TGI sends in a chunk without text, as its whole answer has them.
    const deltaLogprobs = logprobs != null && logprobs.length > 0 ? logprobs.map(toTokenLogprob) : null;
    if (deltaLogprobs !== null) for (const logprob of deltaLogprobs) this.logprobs.push(logprob);
    const content = choice.delta?.content;
    if (typeof content === 'string' && content.length > 0) {
      this.text += content;
      this.textChunks++;
      const { onDelta } = call.options;
      if (onDelta !== undefined) {
        try {
          onDelta({ content, logprobs: deltaLogprobs });
        } catch (error) {
          return call.fail(error);
        }
        if (!call.pending) return; // the relay aborted the call
      }
    }
    const reason = choice.finish_reason;
    if (reason != null) {
      this.finishReason = CHAT_FINISH_REASONS[reason];
      if (this.finishReason === undefined)
        call.fail(new GatewayError('upstream', `backend finished with an unknown finish_reason "${reason}"`));
    }
  }

  endOfStream(call: BackendCall): void {
    this.complete(call, CLOSED_EARLY);
  }

  /** The stream is over: complete if a finish reason came, else it failed with `incomplete`. */
  private complete(call: BackendCall, incomplete: string): void {
    if (this.finishReason === undefined) return call.fail(new GatewayError('upstream', incomplete));
    const outcome: GenerationOutcome = {
      generatedText: this.text,
      finishReason: this.finishReason,
      // A server that ignores `stream_options.include_usage` (older llama-server) says nothing of the prompt; its
      // output is counted as one token per chunk with text, as it streams them (the end token is not counted).
      inputTokens: this.inputTokens ?? 0,
      outputTokens: this.outputTokens ?? this.textChunks,
      seed: null,
      timings: call.timings(this.lastEventAt),
    };
    if (this.wantsLogprobs) outcome.logprobs = this.logprobs;
    call.succeed(outcome);
  }
}
