import { GatewayError } from './gateway-error.js';
import type { GenerationOutcome } from './inference-backend.js';
import type { BackendCall } from './backend-call.js';
import { OpenAiChunkReader } from './openai-chunk-reader.js';
import type { TgiFinishReason, TgiStreamEvent } from './tgi-protocol.js';

/**
 * A chunk's choice in `POST /v1/completions` as OpenAI-protocol servers stream it: vLLM and SGLang (`stop_reason` beside the
 * finish reason, the usage in a last chunk without choices), llama-server (an empty-text chunk with the finish
 * reason), TGI and our engine (`finish_reason` "" until the last chunk, which carries the usage and TGI's own
 * reasons). Only what the reader uses.
 */
interface CompletionChoiceOnTheWire {
  text?: string | null;
  finish_reason?: string | null;
  stop_reason?: unknown;
}

/** The protocol carries no token ids: every relayed token has this one (TGI's schema wants a non-negative id). */
export const UNKNOWN_TOKEN_ID = 0;

/**
 * Reads one completions stream as TGI's generate_stream would have said it: each chunk with text is relayed at once
 * through `onToken` as a token event; the end (`data: [DONE]`, or a clean end after a finish reason) is one more
 * event, an empty special token carrying `generated_text` and the details, as TGI's end token does. Every chunk counts
 * as progress for the timers, text or not.
 */
export class OpenAiCompletionReader extends OpenAiChunkReader<CompletionChoiceOnTheWire> {
  private text = '';
  private finishReason: TgiFinishReason | undefined;
  private textChunks = 0;
  private firstTextAt: number | undefined;

  constructor(
    /** `return_full_text`: the prompt, put in front of the generated text as TGI does. */
    private readonly prefix: string,
    /** The seed the request sampled with (TGI reports it; null when greedy or not given). */
    private readonly seed: number | null,
  ) {
    super();
  }

  protected readChoice(choice: CompletionChoiceOnTheWire, call: BackendCall): void {
    const text = choice.text;
    if (typeof text === 'string' && text.length > 0) {
      this.text += text;
      this.firstTextAt ??= this.lastEventAt;
      if (!this.relay(call, tokenEvent(++this.textChunks, text))) return;
    }
    const reason = choice.finish_reason;
    if (reason != null && reason !== '') {
      this.finishReason = finishReasonOf(reason, choice.stop_reason);
      if (this.finishReason === undefined)
        call.fail(new GatewayError('upstream', `backend finished with an unknown finish_reason "${reason}"`));
    }
  }

  /** False when the relay failed or aborted the call. */
  private relay(call: BackendCall, event: TgiStreamEvent): boolean {
    const { onToken } = call.options;
    if (onToken === undefined) return true;
    try {
      onToken(event);
    } catch (error) {
      call.fail(error);
      return false;
    }
    return call.pending;
  }

  protected complete(call: BackendCall, incomplete: string): void {
    const finishReason = this.finishReason;
    if (finishReason === undefined) return call.fail(new GatewayError('upstream', incomplete));
    const generatedText = this.prefix + this.text;
    // A server that ignores `stream_options.include_usage` says nothing of the prompt; one chunk is one token.
    const inputTokens = this.inputTokens ?? 0;
    const outputTokens = this.outputTokens ?? this.textChunks;
    const final: TgiStreamEvent = {
      index: this.textChunks + 1,
      token: { id: UNKNOWN_TOKEN_ID, text: '', logprob: null, special: true },
      generated_text: generatedText,
      details: {
        finish_reason: finishReason,
        generated_tokens: outputTokens,
        input_length: inputTokens,
        seed: this.seed,
      },
    };
    if (!this.relay(call, final)) return;
    const outcome: GenerationOutcome = {
      generatedText,
      finishReason,
      inputTokens,
      outputTokens,
      seed: this.seed,
      timings: call.timings(this.lastEventAt, this.firstTextAt ?? this.lastEventAt),
    };
    call.succeed(outcome);
  }
}

function tokenEvent(index: number, text: string): TgiStreamEvent {
  return {
    index,
    token: { id: UNKNOWN_TOKEN_ID, text, logprob: null, special: false },
    generated_text: null,
    details: null,
  };
}

/**
 * OpenAI's `stop` covers the end token and a stop string; vLLM and SGLang tell them apart by `stop_reason` (the stop
 * string, a stop token's id, or null for the end token). TGI and our engine send their own reasons.
 */
function finishReasonOf(reason: string, stopReason: unknown): TgiFinishReason | undefined {
  switch (reason) {
    case 'stop':
      return typeof stopReason === 'string' ? 'stop_sequence' : 'eos_token';
    case 'length':
    case 'eos_token':
    case 'stop_sequence':
      return reason;
    default:
      return undefined;
  }
}
