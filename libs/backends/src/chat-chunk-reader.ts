import { GatewayError } from './gateway-error.js';
import type { GenerationOutcome } from './inference-backend.js';
import type { OpenAiTokenLogprob } from './openai-protocol.js';
import type { BackendCall } from './backend-call.js';
import { CHAT_FINISH_REASONS, toTokenLogprob, type WireLogprob } from './chat-wire.js';
import { OpenAiChunkReader } from './openai-chunk-reader.js';
import { plainChunk, plainUsageChunk } from './plain-chat-json.js';
import type { TgiFinishReason } from './tgi-protocol.js';

/**
 * A chunk's choice in `POST /v1/chat/completions` as OpenAI-protocol servers send it: TGI 3.x (a `role` in every delta, an
 * `eos_token` or `stop_sequence` finish reason, logprobs without `bytes`), vLLM and llama-server (a role-only first
 * chunk, an empty `delta` with the finish reason, `stop` for both ends). Only what the reader uses.
 */
interface ChatChoiceOnTheWire {
  delta?: { content?: string | null } | null;
  logprobs?: { content?: WireLogprob[] | null } | null;
  finish_reason?: string | null;
}

/**
 * Reads one chat call's chunks: relays each piece of text through `onDelta`, and keeps the text, the logprobs, the
 * finish reason and the usage for the outcome. Every chunk counts as progress for the timers and the time to first
 * token, also a role-only or empty one, although only a chunk with text is a delta. The stream is complete at
 * `data: [DONE]`, or at a clean end after a finish reason (servers that omit `[DONE]`; openai-node accepts that too).
 */
export class ChatChunkReader extends OpenAiChunkReader<ChatChoiceOnTheWire> {
  private text = '';
  private readonly logprobs: OpenAiTokenLogprob[] = [];
  private finishReason: TgiFinishReason | undefined;
  /** Chunks with text: the token count of a server that sends no usage (below). */
  private textChunks = 0;

  constructor(private readonly wantsLogprobs: boolean) {
    super();
  }

  /** An ordinary chunk, or the usage's, is read without parsing it (plain-chat-json.ts); any other is parsed. */
  override read(data: string, call: BackendCall): void {
    const plain = plainChunk(data);
    if (plain !== undefined) {
      this.lastEventAt = call.eventArrived();
      if (this.readText(plain.content, null, call)) this.readFinishReason(plain.finishReason, call);
      return;
    }
    const usage = plainUsageChunk(data);
    if (usage === undefined) return super.read(data, call);
    this.lastEventAt = call.eventArrived();
    this.inputTokens = usage.promptTokens;
    this.outputTokens = usage.completionTokens;
  }

  protected readChoice(choice: ChatChoiceOnTheWire, call: BackendCall): void {
    const logprobs = choice.logprobs?.content;
    // Every token's logprob, also the EOS token's that TGI sends in a chunk without text, as its whole answer has them.
    const deltaLogprobs = logprobs != null && logprobs.length > 0 ? logprobs.map(toTokenLogprob) : null;
    if (deltaLogprobs !== null) for (const logprob of deltaLogprobs) this.logprobs.push(logprob);
    const content = choice.delta?.content;
    if (typeof content === 'string' && !this.readText(content, deltaLogprobs, call)) return;
    this.readFinishReason(choice.finish_reason, call);
  }

  private readFinishReason(reason: string | null | undefined, call: BackendCall): void {
    if (reason == null) return;
    this.finishReason = CHAT_FINISH_REASONS[reason];
    if (this.finishReason === undefined)
      call.fail(new GatewayError('upstream', `backend finished with an unknown finish_reason "${reason}"`));
  }

  /** Keeps and relays a piece of text (none if empty); false when the relay failed or aborted the call. */
  private readText(content: string, logprobs: OpenAiTokenLogprob[] | null, call: BackendCall): boolean {
    if (content.length === 0) return true;
    this.text += content;
    this.textChunks++;
    const { onDelta } = call.options;
    if (onDelta === undefined) return true;
    try {
      onDelta({ content, logprobs });
    } catch (error) {
      call.fail(error);
      return false;
    }
    return call.pending;
  }

  protected complete(call: BackendCall, incomplete: string): void {
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
