import { CHAT_FINISH_REASONS } from './chat-wire.js';
import { decodedString, INTEGER, JSON_CHARS, PLAIN_CHARS } from './json-patterns.js';

/**
 * A chat backend's ordinary JSON read without building its objects. `JSON.parse` of a chunk builds five objects and
 * looks up thirteen keys for one piece of text, a chunk a token; matching the forms below costs a tenth of that
 * (PERFORMANCE.md). Each form is exact: no whitespace, these keys in this order, `null` where shown, every string and
 * number valid JSON. So a text that matches is valid JSON, and parsing it whole would read the same; any other text
 * gives undefined, and the caller parses it whole.
 */

/** What a stream's ordinary chunk says, read by `plainChunk`. */
export interface PlainChunk {
  content: string;
  /** As the server wrote it (`stop`, `length`, `eos_token`, `stop_sequence`), or null before the last chunk. */
  finishReason: string | null;
}

/**
 * A stream's ordinary chunk: one piece of text, and the finish reason in the last. TGI 3.x sends
 *
 *   {"id":"","object":"chat.completion.chunk","created":1732000000,"model":"m","system_fingerprint":"3.3.6-native",
 *    "choices":[{"index":0,"delta":{"role":"assistant","content":" is"},"logprobs":null,"finish_reason":null}],
 *    "usage":null}
 *
 * and vLLM the same without the fingerprint, the role and the usage, and its last with an empty delta. A chunk with
 * logprobs, a usage or an error is not ordinary.
 */
export function plainChunk(data: string): PlainChunk | undefined {
  const match = ORDINARY_CHUNK.exec(data);
  return match === null ? undefined : { content: decodedString(match[1] ?? ''), finishReason: match[2] ?? null };
}

/** The token counts of the chunk that closes a stream with `stream_options.include_usage`: no choices, the usage. */
export function plainUsageChunk(data: string): PlainUsage | undefined {
  const match = USAGE_CHUNK.exec(data);
  return match === null ? undefined : { promptTokens: Number(match[1]), completionTokens: Number(match[2]) };
}

export interface PlainUsage {
  promptTokens: number;
  completionTokens: number;
}

/** What a one-piece answer (`stream: false`) says, read by `plainChatAnswer`. */
export interface PlainChatAnswer extends PlainUsage {
  content: string;
  /** As the server wrote it: one of `stop`, `length`, `eos_token`, `stop_sequence`. */
  finishReason: string;
}

/**
 * TGI's answer without logprobs:
 *
 *   {"id":"","object":"chat.completion","created":1732000000,"model":"m","system_fingerprint":"3.3.6-native",
 *    "choices":[{"index":0,"message":{"role":"assistant","content":"Hi."},"logprobs":null,"finish_reason":"stop"}],
 *    "usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}
 */
export function plainChatAnswer(text: string): PlainChatAnswer | undefined {
  const match = ORDINARY_ANSWER.exec(text);
  if (match === null) return undefined;
  const [, content, finishReason, promptTokens, completionTokens] = match;
  return {
    content: decodedString(content!),
    finishReason: finishReason!,
    promptTokens: Number(promptTokens),
    completionTokens: Number(completionTokens),
  };
}

/** The finish reasons the readers know; any other is read whole, and refused there. */
const FINISH_REASON = `(${Object.keys(CHAT_FINISH_REASONS).join('|')})`;
/** A usage's members, the prompt's and the completion's counts captured. */
const USAGE = `\\{"prompt_tokens":(${INTEGER}),"completion_tokens":(${INTEGER}),"total_tokens":${INTEGER}\\}`;

/** The members every chat chunk and answer opens with, `object` being `chat.completion` or `chat.completion.chunk`. */
function opening(object: string): string {
  return (
    `^\\{"id":"${PLAIN_CHARS}","object":"${object.replaceAll('.', '\\.')}","created":${INTEGER}` +
    `,"model":"${PLAIN_CHARS}"(?:,"system_fingerprint":"${PLAIN_CHARS}")?`
  );
}

const ORDINARY_CHUNK = new RegExp(
  opening('chat.completion.chunk') +
    `,"choices":\\[\\{"index":0,"delta":\\{(?:(?:"role":"assistant",)?"content":"(${JSON_CHARS})")?\\}` +
    `,"logprobs":null,"finish_reason":(?:null|"${FINISH_REASON}")\\}\\](?:,"usage":null)?\\}$`,
);

const USAGE_CHUNK = new RegExp(`${opening('chat.completion.chunk')},"choices":\\[\\],"usage":${USAGE}\\}$`);

const ORDINARY_ANSWER = new RegExp(
  opening('chat.completion') +
    `,"choices":\\[\\{"index":0,"message":\\{"role":"assistant","content":"(${JSON_CHARS})"\\}` +
    `,"logprobs":null,"finish_reason":"${FINISH_REASON}"\\}\\],"usage":${USAGE}\\}$`,
);
