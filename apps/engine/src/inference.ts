import type { EngineMetrics } from './engine-metrics.js';
import { EngineError, overloadedError, validationError } from './errors.js';
import {
  planGeneration,
  runGeneration,
  type GenerationPlan,
  type GenerationResult,
  type TokenListener,
} from './generator.js';
import type { ModelRuntime } from './model-runtime.js';
import type { ChatMessageInput } from './openai-validation.js';
import {
  validateGenerateRequest,
  type GenerateParameters,
  type GenerateRequest,
  type RequestFieldOptions,
  type ValidationLimits,
} from './validation.js';

interface ValidateOptions extends RequestFieldOptions {
  /** A streamed answer cannot carry `decoder_input_details`, as TGI refuses it there. */
  streaming?: boolean;
}

/** What to generate from: a prompt as it stands, or chat messages rendered with the model's template. */
export interface GenerationJob {
  input: { text: string } | { messages: ChatMessageInput[] };
  parameters: GenerateParameters;
  /** Each token's logprob (costly: see GenerationPlan.tokenLogprobs). */
  logprobs: boolean;
}

/** A planned generation: every rule that can refuse the request has passed, nothing is held yet. */
export interface PreparedGeneration {
  plan: GenerationPlan;
  startedAt: number;
}

/**
 * One request's way through the engine: admission (TGI's concurrency permit → 429), readiness, planning
 * (tokenizer rules → 422), the wait for a sequence, generation, and the metrics of each step.
 * Every path out releases what it took: the permit, the sequence, the queue place.
 */
export class InferenceService {
  private admitted = 0;

  constructor(
    private readonly runtime: ModelRuntime,
    private readonly metrics: EngineMetrics,
    private readonly maxConcurrentRequests: number,
    /** Streams carry per-token logprobs only when the engine was started with --stream-logprobs. */
    private readonly streamLogprobs = false,
  ) {}

  /** Takes a concurrency permit or refuses at once; call the returned function exactly once when done. */
  admit(): () => void {
    this.metrics.requestCount.inc();
    if (this.admitted >= this.maxConcurrentRequests) {
      this.metrics.requestFailure.inc({ err: 'overloaded' });
      throw overloadedError();
    }
    this.admitted++;
    let released = false;
    return () => {
      if (!released) this.admitted--;
      released = true;
    };
  }

  /** Validates a request body; a refusal counts as TGI counts it (tgi_request_failure{err="validation"}). */
  validate(
    body: unknown,
    limits: ValidationLimits,
    { streaming = false, ...fields }: ValidateOptions = {},
  ): GenerateRequest {
    try {
      const parsed = validateGenerateRequest(body, limits, fields);
      if (streaming && parsed.parameters.decoderInputDetails) {
        throw validationError('`decoder_input_details` == true is not supported when streaming tokens');
      }
      return parsed;
    } catch (error) {
      this.metrics.requestFailure.inc({ err: 'validation' });
      throw error;
    }
  }

  /** Runs `read` (a route's own input rules), counting a refusal as {@link validate} does. */
  validateWith<T>(read: () => T): T {
    try {
      return read();
    } catch (error) {
      this.metrics.requestFailure.inc({ err: 'validation' });
      throw error;
    }
  }

  async generate(request: GenerateRequest, signal: AbortSignal, onToken?: TokenListener): Promise<GenerationResult> {
    const logprobs = onToken ? this.streamLogprobs : request.parameters.details;
    const prepared = await this.prepare({ input: { text: request.inputs }, parameters: request.parameters, logprobs });
    return this.execute(prepared, signal, onToken);
  }

  /**
   * Readiness, the chat template, the grammar and the tokenizer's rules, before any waiting: a streamed answer
   * prepares first so that a refusal is still a status code, not an event.
   */
  async prepare({ input, parameters, logprobs }: GenerationJob): Promise<PreparedGeneration> {
    const startedAt = performance.now();
    try {
      const { model, config, chatTemplate, grammars, promptBounds } = this.ready();
      let rendered;
      let inputs;
      if ('messages' in input) {
        // The template adds to the messages' text, never takes away: their text alone must fit.
        await promptBounds.fit(input.messages.map((m) => m.content).join('\n'));
        rendered = chatTemplate.render(input.messages);
        inputs = rendered.tokens;
      } else {
        inputs = await promptBounds.fit(input.text, parameters.truncate);
      }
      const constraint = parameters.grammar ? await grammars.constraintFor(parameters.grammar) : undefined;
      // The output ends where the chat turn ends or the grammar's value is complete, whichever marker comes first.
      const endOfTurn = [...(rendered?.endOfTurn ?? []), ...(constraint?.endOfOutput ?? [])];
      const plan = planGeneration(model, config, parameters, inputs, logprobs, {
        endOfTurn,
        grammarState: constraint?.state,
      });
      this.metrics.inputLength.observe(plan.inputTokens.length);
      this.metrics.maxNewTokens.observe(plan.maxNewTokens);
      return { plan, startedAt };
    } catch (error) {
      this.metrics.requestFailure.inc({ err: error instanceof EngineError ? error.errorType : 'generation' });
      throw error;
    }
  }

  /** Waits for a sequence, generates, and gives the sequence back, whatever happens. */
  async execute(
    { plan, startedAt }: PreparedGeneration,
    signal: AbortSignal,
    onToken?: TokenListener,
  ): Promise<GenerationResult> {
    try {
      const { model, pool } = this.ready();
      const sequence = await pool.acquire(signal);
      const inferenceStartedAt = performance.now();
      this.metrics.queueDuration.observe((inferenceStartedAt - startedAt) / 1000);
      let result: GenerationResult;
      try {
        result = await runGeneration(model, sequence, plan, signal, onToken);
      } finally {
        pool.release(sequence);
      }
      const inferenceSeconds = (performance.now() - inferenceStartedAt) / 1000;
      this.metrics.requestSuccess.inc();
      this.metrics.requestDuration.observe((performance.now() - startedAt) / 1000);
      this.metrics.inferenceDuration.observe(inferenceSeconds);
      this.metrics.generatedTokens.observe(result.tokens.length);
      if (result.tokens.length > 0) this.metrics.timePerToken.observe(inferenceSeconds / result.tokens.length);
      return result;
    } catch (error) {
      const err = signal.aborted ? 'cancelled' : error instanceof EngineError ? error.errorType : 'generation';
      this.metrics.requestFailure.inc({ err });
      throw error;
    }
  }

  private ready() {
    const { state, model, pool, config, chatTemplate, grammars, promptBounds } = this.runtime;
    if (state === 'ready' && model && pool && config && chatTemplate && grammars && promptBounds)
      return { model, pool, config, chatTemplate, grammars, promptBounds };
    const why =
      state === 'failed' ? `the model failed to load: ${this.runtime.loadError}` : 'the model is still loading';
    throw new EngineError('unavailable', `Model is not ready: ${why}`);
  }
}
