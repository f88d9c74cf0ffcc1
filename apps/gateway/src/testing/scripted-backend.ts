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
  type StopSignal,
  type TgiDetails,
  type TgiInfo,
  type TgiStreamDetails,
  type TgiStreamEvent,
  type TgiToken,
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
 *   max_tokens), each with a made-up logprob and, with `top_n_tokens`, that many top tokens; a call with
 *   `route: 'generate'` streams nothing and answers TGI's details, the prompt's words as `prefill` when
 *   `decoder_input_details` asks for them
 */
export class ScriptedBackend implements InferenceBackend {
  readonly calls: GenerationRequest[] = [];
  readonly chatCalls: ChatGenerationRequest[] = [];
  private held: Array<() => void> = [];

  constructor(readonly baseUrl: string) {}

  async generate(request: GenerationRequest, { signal, onToken: relay }: CallOptions): Promise<GenerationOutcome> {
    this.calls.push(request);
    // The one-answer route relays no events; the stream route relays them as they come.
    const oneAnswer = request.route === 'generate';
    const onToken = oneAnswer ? undefined : relay;
    const topN = Number(request.parameters.top_n_tokens ?? 0);
    await this.play(request.inputs, signal, () => emitTokens(['a', 'b'], onToken, topN));
    const words = request.inputs.split(' ');
    const maxNewTokens = Number(request.parameters.max_new_tokens);
    const tokens = words.slice(0, maxNewTokens).map((word) => ` ${word}`);
    const details: TgiStreamDetails = {
      finish_reason: tokens.length === maxNewTokens ? 'length' : 'eos_token',
      generated_tokens: tokens.length,
      input_length: words.length,
      seed: null,
    };
    const events = emitTokens(tokens, onToken, topN, details);
    // TGI's return_full_text: the final text starts with the prompt.
    const prefix = request.parameters.return_full_text === true ? request.inputs : '';
    return {
      generatedText: prefix + tokens.join(''),
      finishReason: details.finish_reason,
      inputTokens: details.input_length,
      outputTokens: details.generated_tokens,
      seed: null,
      ...(oneAnswer && request.parameters.details === true
        ? { details: oneAnswerDetails(events, details, request.parameters.decoder_input_details === true ? words : []) }
        : {}),
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
  private async play(script: string, signal: StopSignal, partial: () => void): Promise<void> {
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
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
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

  /** TGI's Info, with the numbers of a small TGI. */
  info(): Promise<Record<string, unknown>> {
    const info: TgiInfo = {
      model_id: 'scripted',
      model_sha: null,
      model_pipeline_tag: 'text-generation',
      max_concurrent_requests: 1,
      max_best_of: 1,
      max_stop_sequences: 4,
      max_input_tokens: 1024,
      max_total_tokens: 2048,
      validation_workers: 1,
      max_client_batch_size: 1,
      router: 'scripted',
      version: '0.0.0',
      sha: null,
      docker_label: null,
    };
    return Promise.resolve({ ...info });
  }

  close(): void {
    this.release();
  }
}

/** A made-up logprob per delta, so the relay of logprobs can be checked: the shape is TGI's, the number is not. */
function logprobsOf(content: string): OpenAiTokenLogprob[] {
  return [{ token: content, logprob: -0.5, bytes: null, top_logprobs: [] }];
}

/**
 * TGI's token events, each token with a made-up logprob (the shape is TGI's, the number is not) and `topN` top
 * tokens; with `details`, the last one is final: it carries the generated text and the details.
 */
function emitTokens(
  texts: string[],
  onToken: CallOptions['onToken'],
  topN: number,
  details?: TgiStreamDetails,
): TgiStreamEvent[] {
  return texts.map((text, i) => {
    const final = details !== undefined && i === texts.length - 1;
    const token: TgiToken = { id: i, text, logprob: -0.25 * (i + 1), special: false };
    const event: TgiStreamEvent = {
      index: i + 1,
      token,
      ...(topN > 0
        ? { top_tokens: Array.from({ length: topN }, (_, n) => ({ ...token, id: i + n, logprob: -n })) }
        : {}),
      generated_text: final ? texts.join('') : null,
      details: final ? details : null,
    };
    onToken?.(event);
    return event;
  });
}

/** What TGI's `/generate` answers with `details: true`: the stream's tokens, and the prompt's when asked. */
function oneAnswerDetails(events: TgiStreamEvent[], final: TgiStreamDetails, prompt: string[]): TgiDetails {
  const withTop = events.some((event) => event.top_tokens !== undefined);
  return {
    finish_reason: final.finish_reason,
    generated_tokens: final.generated_tokens,
    seed: final.seed,
    prefill: prompt.map((text, i) => ({ id: 100 + i, text, logprob: i === 0 ? null : -1.5 })),
    tokens: events.map((event) => event.token),
    ...(withTop ? { top_tokens: events.map((event) => event.top_tokens ?? []) } : {}),
  };
}
