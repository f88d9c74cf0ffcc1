import {
  GatewayError,
  toGatewayError,
  type CallOptions,
  type ChatGenerationRequest,
  type GenerationOutcome,
  type GenerationRequest,
  type InferenceBackend,
  type OpenAiTokenLogprob,
  type ProbeResult,
  type TgiStreamDetails,
  type TgiStreamEvent,
} from '#backends';

/**
 * A TEST STUB for a model's backend, in process: it generates nothing and fails as the request's `inputs` (a chat's
 * last user message) says,
 * with the errors TgiBackend would reject with, so the gateway's queue, deadlines and answers run for real:
 *
 * - `fail`: TGI's 500 (upstream) before any token; `fail-midstream`: the same after two tokens
 * - `timeout`: a first-byte timeout; `overloaded`: TGI's 429 without Retry-After; `refused`: ECONNREFUSED
 * - `backend-422`: TGI refusing the input; `crash`: a TypeError, a bug in the gateway's own code path
 * - `hold`: waits until `release()` (or the call's signal)
 * - anything else: one token per word of `inputs`, capped by max_new_tokens (a chat: one delta per word, capped by
 *   max_tokens)
 */
export class ScriptedBackend implements InferenceBackend {
  readonly calls: GenerationRequest[] = [];
  readonly chatCalls: ChatGenerationRequest[] = [];
  private held: Array<() => void> = [];

  constructor(readonly baseUrl: string) {}

  async generate(request: GenerationRequest, { signal, onToken }: CallOptions): Promise<GenerationOutcome> {
    this.calls.push(request);
    await this.play(request.inputs, signal, () => emitTokens(['a', 'b'], onToken));
    const words = request.inputs.split(' ');
    const maxNewTokens = Number(request.parameters.max_new_tokens);
    const tokens = words.slice(0, maxNewTokens).map((word) => ` ${word}`);
    const details: TgiStreamDetails = {
      finish_reason: tokens.length === maxNewTokens ? 'length' : 'eos_token',
      generated_tokens: tokens.length,
      input_length: words.length,
      seed: null,
    };
    emitTokens(tokens, onToken, details);
    // TGI's return_full_text: the final text starts with the prompt.
    const prefix = request.parameters.return_full_text === true ? request.inputs : '';
    return {
      generatedText: prefix + tokens.join(''),
      finishReason: details.finish_reason,
      inputTokens: details.input_length,
      outputTokens: details.generated_tokens,
      seed: null,
      timings: { firstTokenMs: 1, backendMs: 2 },
    };
  }

  /** The script is the last user message's text; otherwise one delta per word of it, capped by max_tokens. */
  async chat(request: ChatGenerationRequest, { signal, onDelta }: CallOptions): Promise<GenerationOutcome> {
    this.chatCalls.push(request);
    const script = request.messages.findLast((message) => message.role === 'user')?.content ?? '';
    const emit = (texts: string[]) =>
      texts.forEach((content) => onDelta?.({ content, logprobs: request.logprobs ? logprobsOf(content) : null }));
    await this.play(script, signal, () => emit(['a', 'b']));
    const words = script.split(' ');
    const deltas = words.slice(0, request.max_tokens).map((word, i) => (i === 0 ? word : ` ${word}`));
    emit(deltas);
    return {
      generatedText: deltas.join(''),
      finishReason: deltas.length === request.max_tokens ? 'length' : 'eos_token',
      inputTokens: request.messages.reduce((sum, message) => sum + message.content.split(' ').length, 0),
      outputTokens: deltas.length,
      seed: null,
      ...(request.logprobs ? { logprobs: deltas.flatMap(logprobsOf) } : {}),
      timings: { firstTokenMs: 1, backendMs: 2 },
    };
  }

  /** The scripted failures, shared by generate and chat; `partial` emits two pieces before failing midstream. */
  private async play(script: string, signal: AbortSignal, partial: () => void): Promise<void> {
    switch (script) {
      case 'fail':
        throw new GatewayError('upstream', 'backend answered 500: Request failed during generation: CUDA error', {
          backendStatus: 500,
        });
      case 'fail-midstream':
        partial();
        throw new GatewayError('upstream', 'Request failed during generation: CUDA error');
      case 'timeout':
        throw new GatewayError('timeout', 'backend first-byte timeout after 800 ms');
      case 'overloaded':
        throw new GatewayError('overloaded', 'Model is overloaded', { backendStatus: 429 });
      case 'refused':
        throw toGatewayError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }));
      case 'backend-422':
        throw new GatewayError(
          'validation',
          'Input validation error: `inputs` tokens + `max_new_tokens` must be <= 512',
          {
            backendStatus: 422,
          },
        );
      case 'crash':
        throw new TypeError("Cannot read properties of undefined (reading 'text')");
      case 'hold':
        await new Promise<void>((resolve, reject) => {
          this.held.push(resolve);
          signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
        });
    }
  }

  /** Lets every `hold` call go on. */
  release(): void {
    for (const resume of this.held.splice(0)) resume();
  }

  probe(): Promise<ProbeResult> {
    return Promise.resolve('ready');
  }

  info(): Promise<Record<string, unknown>> {
    return Promise.resolve({ model_id: 'scripted' });
  }

  close(): void {
    this.release();
  }
}

/** A made-up logprob per delta, so the relay of logprobs can be checked: the shape is TGI's, the number is not. */
function logprobsOf(content: string): OpenAiTokenLogprob[] {
  return [{ token: content, logprob: -0.5, bytes: null, top_logprobs: [] }];
}

/** TGI's token events; with `details`, the last one is final: it carries the generated text and the details. */
function emitTokens(texts: string[], onToken: CallOptions['onToken'], details?: TgiStreamDetails): void {
  texts.forEach((text, i) => {
    const final = details !== undefined && i === texts.length - 1;
    const event: TgiStreamEvent = {
      index: i + 1,
      token: { id: i, text, logprob: null, special: false },
      generated_text: final ? texts.join('') : null,
      details: final ? details : null,
    };
    onToken?.(event);
  });
}
