import type { TgiErrorEvent, TgiFinishReason, TgiStreamEvent, TgiToken } from '#backends';

/**
 * The mock backend's output, precomputed: it must cost next to nothing per request, because it is the baseline
 * backend against which the gateway's own cost is measured. Token texts spell out what it is.
 */
const WORDS = [' This', ' is', ' a', ' load', '-', 'test', ' target', ',', ' not', ' a', ' model', '.'];
const EOS_TOKEN: TgiToken = { id: 2, text: '</s>', logprob: null, special: true };

/** The mock never has a stop sequence. */
export type MockFinishReason = Extract<TgiFinishReason, 'length' | 'eos_token'>;

function tokenAt(i: number): TgiToken {
  return { id: 1000 + (i % WORDS.length), text: WORDS[i % WORDS.length]!, logprob: null, special: false };
}

/** The tokens of an answer of n tokens: words, the last one TGI's EOS when the model "chose" to stop. */
function answerTokens(n: number, finish: MockFinishReason): TgiToken[] {
  const tokens = Array.from({ length: n }, (_, i) => tokenAt(i));
  if (finish === 'eos_token' && n > 0) tokens[n - 1] = EOS_TOKEN;
  return tokens;
}

function generatedText(tokens: readonly TgiToken[]): string {
  let text = '';
  for (const t of tokens) if (!t.special) text += t.text;
  return text;
}

/** axum's SSE framing, as TGI sends it. */
export function sseFrame(data: TgiStreamEvent | TgiErrorEvent): string {
  return `data:${JSON.stringify(data)}\n\n`;
}

/** Cached per (n, finish): every token event but the last, one frame each and all joined, plus the texts. */
export class AnswerCache {
  private readonly entries = new Map<string, CachedAnswer>();

  get(n: number, finish: MockFinishReason): CachedAnswer {
    const key = `${n}:${finish}`;
    let entry = this.entries.get(key);
    if (!entry) {
      const tokens = answerTokens(n, finish);
      const frames = tokens
        .slice(0, -1)
        .map((token, i) => Buffer.from(sseFrame({ index: i + 1, token, generated_text: null, details: null })));
      const text = generatedText(tokens);
      entry = {
        tokens,
        frames,
        allButLast: Buffer.concat(frames),
        text,
        plainBody: JSON.stringify({ generated_text: text }),
      };
      this.entries.set(key, entry);
    }
    return entry;
  }
}

export interface CachedAnswer {
  tokens: TgiToken[];
  /** Token events 1..n−1, one buffer each (for timed streams). */
  frames: Buffer[];
  /** The same, joined (for streams without per-token delay). */
  allButLast: Buffer;
  text: string;
  /** The /generate answer without details. */
  plainBody: string;
}
