import type { BackendCall } from './backend-call.js';
import { GatewayError } from './gateway-error.js';
import type { GenerationOutcome } from './inference-backend.js';
import { generateAnswerSummary, isDetailsSummary, type TgiGenerateAnswer } from './tgi-answer-summary.js';
import type { TgiDetails, TgiFinishReason } from './tgi-protocol.js';
import { WholeAnswerReader } from './whole-answer-reader.js';

/**
 * TGI's `POST /generate` answer: one GenerateResponse, `{generated_text, details?}`, and the token counts in the
 * `x-prompt-tokens` / `x-generated-tokens` headers (TGI and our engine send them with every answer). The headers come
 * only once the generation is done (so the total bounds the call, not the first byte); the body follows them at once.
 */
export class TgiGenerateAnswerReader extends WholeAnswerReader {
  constructor(
    call: BackendCall,
    /** The request's parameters: whether it asked for details, and what may explain the end. */
    private readonly parameters: Readonly<Record<string, unknown>>,
    /** `details: true` went to the backend whatever the request asked (the outcome carries them only if it did). */
    private readonly sent: { detailsSent?: boolean } = {},
  ) {
    super(call, '/generate');
  }

  protected read(text: string, now: number): void {
    const { parameters } = this;
    const asked = parameters.details === true || parameters.decoder_input_details === true;
    // Details nobody asked for are read only up to their token lists (and then without a prefill: not asked for).
    const answer = (asked ? undefined : generateAnswerSummary(text)) ?? parseGenerateResponse(text);
    if (typeof answer === 'string') return this.call.fail(this.refusal(answer, text));
    const details = answer.details ?? undefined;
    if (details === undefined && (asked || this.sent.detailsSent === true)) {
      return this.call.fail(
        new GatewayError('upstream', 'backend answered /generate without `details` although the call asked for them'),
      );
    }
    const generatedText = answer.generated_text;
    const outputTokens = details?.generated_tokens ?? this.countHeader('x-generated-tokens') ?? 0;
    const outcome: GenerationOutcome = {
      generatedText,
      finishReason: details?.finish_reason ?? this.finishReasonWithoutDetails(generatedText, outputTokens),
      // Details carry no prompt length; the prefill (with `decoder_input_details`) is every prompt token. A server
      // that sends neither says nothing of the prompt: 0, as a chat server without usage.
      inputTokens:
        this.countHeader('x-prompt-tokens') ?? ((details as Partial<TgiDetails> | undefined)?.prefill?.length || 0),
      outputTokens,
      seed: details?.seed ?? null,
      // One answer has no first token of its own: its time to first token is the whole answer's arrival.
      timings: this.call.timings(now, now),
    };
    // Asked for, they were parsed whole.
    if (details !== undefined && asked) outcome.details = details as TgiDetails;
    this.call.succeed(outcome);
  }

  /**
   * TGI says why it stopped only in the details. Without them: a stop string the text ends with, `max_new_tokens`
   * reached, else the end token (a guess only when the end token was the last one `max_new_tokens` allowed).
   */
  private finishReasonWithoutDetails(text: string, outputTokens: number): TgiFinishReason {
    const { stop, max_new_tokens } = this.parameters;
    if (Array.isArray(stop) && stop.some((s) => typeof s === 'string' && s.length > 0 && text.endsWith(s))) {
      return 'stop_sequence';
    }
    return typeof max_new_tokens === 'number' && outputTokens >= max_new_tokens ? 'length' : 'eos_token';
  }
}

/** The answer as a GenerateResponse, or what is wrong with it. Details are checked as far as the outcome reads them. */
function parseGenerateResponse(text: string): TgiGenerateAnswer | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'a body that is not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'JSON that is not a GenerateResponse';
  const { generated_text, details } = value as { generated_text?: unknown; details?: unknown };
  if (typeof generated_text !== 'string') return 'a GenerateResponse without `generated_text`';
  if (details != null && !isDetails(details)) return 'a GenerateResponse whose `details` are not TGI Details';
  return value as TgiGenerateAnswer;
}

function isDetails(value: unknown): value is TgiDetails {
  if (!isDetailsSummary(value)) return false;
  const { prefill, tokens } = value as unknown as Record<string, unknown>;
  return Array.isArray(prefill) && Array.isArray(tokens);
}
