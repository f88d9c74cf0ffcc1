import type { EngineMetrics } from './engine-metrics.js';
import { EngineError, overloadedError, validationError } from './errors.js';
import { planGeneration, runGeneration, type GenerationResult, type TokenListener } from './generator.js';
import type { ModelRuntime } from './model-runtime.js';
import {
  validateGenerateRequest,
  type GenerateRequest,
  type RequestFieldOptions,
  type ValidationLimits,
} from './validation.js';

interface ValidateOptions extends RequestFieldOptions {
  /** A streamed answer cannot carry `decoder_input_details`, as TGI refuses it there. */
  streaming?: boolean;
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

  async generate(request: GenerateRequest, signal: AbortSignal, onToken?: TokenListener): Promise<GenerationResult> {
    const startedAt = performance.now();
    try {
      const { model, pool, config } = this.ready();
      const logprobs = onToken ? this.streamLogprobs : request.parameters.details;
      const plan = planGeneration(model, config, request.parameters, request.inputs, logprobs);
      this.metrics.inputLength.observe(plan.inputTokens.length);
      this.metrics.maxNewTokens.observe(plan.maxNewTokens);

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
    const { state, model, pool, config } = this.runtime;
    if (state === 'ready' && model && pool && config) return { model, pool, config };
    const why =
      state === 'failed' ? `the model failed to load: ${this.runtime.loadError}` : 'the model is still loading';
    throw new EngineError('unavailable', `Model is not ready: ${why}`);
  }
}
