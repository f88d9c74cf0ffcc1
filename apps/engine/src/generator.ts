import { randomInt } from 'node:crypto';
import type {
  LlamaContextSequence,
  LlamaGrammarEvaluationState,
  LlamaModel,
  SequenceEvaluateOptions,
  Token,
} from 'node-llama-cpp';
import type { TgiFinishReason, TgiPrefillToken, TgiToken } from '#backends';
import type { EngineConfig } from './config.js';
import { StopSequenceMatcher } from './incremental-decoder.js';
import { tokenTextsOf, type TokenTextCursor, type TokenTexts } from './token-texts.js';
import { TurnEndMatcher } from './turn-end-matcher.js';
import { checkTokenBudget, usesSampling, type GenerateParameters } from './validation.js';

/** What one request will do, settled before it waits for a sequence. */
export interface GenerationPlan {
  inputTokens: Token[];
  maxNewTokens: number;
  parameters: GenerateParameters;
  /** Null when decoding greedily, as TGI reports it. */
  seed: number | null;
  /**
   * Whether each token gets its logprob. It costs a softmax over the whole vocabulary per token (about half the
   * speed of a 49k-vocabulary model on CPU), so it is on only where the client will see it; otherwise logprob is
   * null, which TGI's schema allows.
   */
  tokenLogprobs: boolean;
  /**
   * Text that ends the output (a chat template's stop triggers, a grammar's end): never shown, and the generation
   * finishes as on EOS.
   */
  endOfTurn: string[];
  /** Constrains sampling to a grammar; one state per generation, it follows the tokens sampled. */
  grammarState?: LlamaGrammarEvaluationState;
}

/** What a chat request adds to a plan: its template's end-of-turn markers and its JSON grammar. */
export interface PlanExtras {
  endOfTurn?: string[];
  grammarState?: LlamaGrammarEvaluationState;
}

export interface GenerationResult {
  text: string;
  finishReason: TgiFinishReason;
  tokens: TgiToken[];
  topTokens: TgiToken[][];
  prefill: TgiPrefillToken[];
  seed: number | null;
  inputLength: number;
}

/**
 * Called per generated token; `last` marks the token the result will end with (sent by the caller with the result).
 * `text` is what the token adds to the generated text: the token's own text, less what an end-of-turn marker holds
 * back or drops (the same as `token.text` for special tokens' "" and wherever no marker is set).
 */
export type TokenListener = (token: TgiToken, topTokens: TgiToken[], last: boolean, text: string) => void;

/**
 * Tokenizes, truncates and checks the budget: every rule that needs the tokenizer, before any waiting.
 * Tokens (a rendered chat template, which carries its own BOS) are taken as they are.
 */
export function planGeneration(
  model: LlamaModel,
  config: EngineConfig,
  parameters: GenerateParameters,
  inputs: string | readonly Token[],
  tokenLogprobs: boolean,
  { endOfTurn = [], grammarState }: PlanExtras = {},
): GenerationPlan {
  let inputTokens = typeof inputs === 'string' ? model.tokenize(inputs) : [...inputs];
  if (parameters.truncate !== undefined && inputTokens.length > parameters.truncate) {
    inputTokens = inputTokens.slice(-parameters.truncate); // TGI truncates from the left
  }
  if (typeof inputs === 'string' && model.tokens.shouldPrependBosToken && model.tokens.bos !== null) {
    inputTokens = [model.tokens.bos, ...inputTokens];
  }
  const maxNewTokens = checkTokenBudget(inputTokens.length, parameters.maxNewTokens, config);
  const seed = usesSampling(parameters) ? (parameters.seed ?? randomInt(1, 2 ** 47)) : null;
  return {
    inputTokens,
    maxNewTokens,
    parameters,
    seed,
    tokenLogprobs: tokenLogprobs || parameters.topNTokens > 0,
    endOfTurn,
    grammarState,
  };
}

function samplerOptions(plan: GenerationPlan, history: () => Token[], contextSize: number): SequenceEvaluateOptions {
  const p = plan.parameters;
  const options: SequenceEvaluateOptions = { yieldEogToken: true, minP: 0, grammarEvaluationState: plan.grammarState };
  if (plan.seed === null) {
    options.temperature = 0; // greedy
  } else {
    // node-llama-cpp defaults top_k 40 / top_p 0.95; TGI applies only the warpers the request names.
    options.temperature = p.temperature ?? 1;
    options.topK = p.topK ?? 0;
    options.topP = p.topP ?? 1;
    options.seed = plan.seed % 2 ** 32;
  }
  if (p.repetitionPenalty !== undefined || p.frequencyPenalty !== undefined) {
    options.repeatPenalty = {
      punishTokens: history, // TGI penalises every token seen so far, prompt included
      maxPunishTokens: contextSize,
      penalty: p.repetitionPenalty ?? 1,
      frequencyPenalty: p.frequencyPenalty ?? 0,
    };
  }
  return options;
}

const logOf = (probability: number | undefined): number | null =>
  probability === undefined || probability <= 0 ? null : Math.log(probability);

/**
 * Generates on one leased sequence until max_new_tokens, EOS or a stop sequence, calling `onToken` per token.
 * Aborting `signal` stops evaluation at the next token; the caller releases the sequence either way.
 */
export async function runGeneration(
  model: LlamaModel,
  sequence: LlamaContextSequence,
  plan: GenerationPlan,
  signal: AbortSignal,
  onToken?: TokenListener,
): Promise<GenerationResult> {
  await sequence.clearHistory();
  const { parameters } = plan;
  const inputTokens = plan.inputTokens;
  const texts = tokenTextsOf(model);
  const prefill = parameters.decoderInputDetails ? await evaluatePrefill(texts, sequence, inputTokens) : [];
  const pendingInput = parameters.decoderInputDetails ? inputTokens.slice(-1) : inputTokens;

  const history: Token[] = [...inputTokens];
  const cursor = texts.follow(inputTokens);
  const stops = new StopSequenceMatcher(parameters.stop);
  const turnEnd = new TurnEndMatcher(plan.endOfTurn);
  const tokens: TgiToken[] = [];
  const topTokens: TgiToken[][] = [];
  let text = '';
  let finishReason: TgiFinishReason = 'length';
  const wantTop = parameters.topNTokens > 0;
  const wantLogprobs = plan.tokenLogprobs;

  const evaluation = sequence.evaluateWithMetadata(
    pendingInput,
    { confidence: wantLogprobs, probabilities: wantTop },
    samplerOptions(plan, () => history, sequence.contextSize),
  );
  for await (const output of evaluation) {
    if (signal.aborted) break;
    const id = output.token;
    history.push(id);
    const eog = model.isEogToken(id);
    const special = eog || texts.isSpecial(id);
    // The alternatives' texts are read at the position the chosen token is about to fill.
    const top = wantTop
      ? topTokensOf(
          texts,
          cursor,
          (output as { probabilities?: Map<Token, number> }).probabilities!,
          parameters.topNTokens,
        )
      : [];
    const tokenText = cursor.push(id);
    // What this token shows, and whether it ends the output: a marker may be a control token's text or plain text.
    let { text: visible, ended: turnEnded } = special
      ? { text: '', ended: !eog && plan.endOfTurn.includes(tokenText) }
      : turnEnd.push(tokenText);
    const token: TgiToken = {
      id,
      text: tokenText,
      logprob: wantLogprobs ? logOf((output as { confidence?: number }).confidence) : null,
      special,
    };
    tokens.push(token);
    if (wantTop) topTokens.push(top);

    const stopped = !turnEnded && stops.push(visible) !== undefined;
    const last = eog || turnEnded || stopped || tokens.length >= plan.maxNewTokens;
    if (last) {
      const rest = cursor.flush(); // an incomplete character at the very end still belongs to the text
      token.text += rest;
      if (!turnEnded) {
        const tail = turnEnd.push(rest);
        turnEnded = tail.ended;
        visible += tail.text + (tail.ended ? '' : turnEnd.flush());
      }
      // The end of the model's turn in a chat is its end of sequence, whichever form it took.
      finishReason = eog || turnEnded ? 'eos_token' : stopped ? 'stop_sequence' : 'length';
    }
    text += visible;
    onToken?.(token, top, last, visible);
    if (last) break;
  }
  signal.throwIfAborted();
  return { text, finishReason, tokens, topTokens, prefill, seed: plan.seed, inputLength: inputTokens.length };
}

/** Softmax of the raw logits: no temperature, no truncation. */
const RAW_DISTRIBUTION = { temperature: 1, topK: 0, topP: 1, minP: 0 };

/** Logprob of each prompt token given the ones before it (TGI's `decoder_input_details`); the first has none. */
async function evaluatePrefill(
  texts: TokenTexts,
  sequence: LlamaContextSequence,
  inputTokens: Token[],
): Promise<TgiPrefillToken[]> {
  const head = inputTokens.slice(0, -1);
  const outputs = await sequence.controlledEvaluate(
    head.map((t) => [t, { generateNext: { probabilities: true, options: RAW_DISTRIBUTION } }]),
  );
  const pieces = texts.ofSequence(inputTokens);
  return inputTokens.map((id, i) => ({
    id,
    text: pieces[i]!,
    logprob: i === 0 ? null : logOf(outputs[i - 1]?.next.probabilities?.get(id)),
  }));
}

function topTokensOf(
  texts: TokenTexts,
  cursor: TokenTextCursor,
  probabilities: Map<Token, number>,
  n: number,
): TgiToken[] {
  const top: TgiToken[] = [];
  for (const [id, probability] of probabilities) {
    if (top.length >= n) break;
    top.push({ id, text: cursor.peek(id), logprob: logOf(probability), special: texts.isSpecial(id) });
  }
  return top;
}
