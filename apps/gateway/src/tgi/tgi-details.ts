import type { GenerationOutcome, TgiDetails, TgiStreamEvent, TgiToken } from '#backends';

/**
 * TGI's Details for an answer the backend streamed: its tokens (and top tokens, when asked) gathered from the
 * token events, then the final event's counts. The prompt's tokens (`prefill`) come only from the backend's
 * one-answer `/generate`; a streamed call has none, as TGI's own `/generate` has none without
 * `decoder_input_details`.
 */
export class DetailsCollector {
  private readonly tokens: TgiToken[] = [];
  private readonly topTokens: TgiToken[][] = [];

  constructor(private readonly withTopTokens: boolean) {}

  readonly onToken = (event: TgiStreamEvent): void => {
    this.tokens.push(event.token);
    if (this.withTopTokens) this.topTokens.push(event.top_tokens ?? []);
  };

  details(outcome: GenerationOutcome): TgiDetails {
    return {
      finish_reason: outcome.finishReason,
      generated_tokens: outcome.outputTokens,
      seed: outcome.seed,
      prefill: [],
      tokens: this.tokens,
      ...(this.withTopTokens ? { top_tokens: this.topTokens } : {}),
    };
  }
}

/**
 * The details an answer carries: the backend's own when it answered through `/generate` (`outcome.details`), else
 * those gathered from its stream.
 */
export function answerDetails(outcome: GenerationOutcome, collector: DetailsCollector): TgiDetails {
  return outcome.details ?? collector.details(outcome);
}
