import type { OpenAiChatCompletion, OpenAiChatCompletionChunk, OpenAiFinishReason, OpenAiUsage } from '#backends';
import type { CachedAnswer, MockFinishReason } from './mock-tokens.js';

/**
 * The mock's `POST /v1/chat/completions`, as TGI 3.x answers it (contracts/tgi-openapi.json: ChatRequest,
 * ChatCompletion, ChatCompletionChunk): a chunk per token with `delta: {role: "assistant", content}` (a special
 * token's content is empty), the last with its finish_reason, then with `stream_options.include_usage` a usage
 * chunk with `choices: []`, then `data:[DONE]`; non-streamed, one `chat.completion`. TGI reads `model` only as a
 * LoRA adapter name and answers with its own model id, as the mock does.
 */
export interface ChatPlan {
  stream: boolean;
  includeUsage: boolean;
  maxTokens: number;
  inputLength: number;
}

/** `inStream`: TGI finds it after the 200 stream has begun (an event), not before (the status). */
export class ChatValidationFailure extends Error {
  constructor(
    message: string,
    readonly inStream = false,
  ) {
    super(message);
  }
}

/** TGI's checks on the fields the mock reads, with TGI's wording. */
export function chatPlanOf(text: string, defaultMaxTokens: number): ChatPlan {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ChatValidationFailure('Failed to deserialize the JSON body into the target type');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ChatValidationFailure('Failed to deserialize the JSON body into the target type');
  const { messages, max_tokens, stream, stream_options } = body as Record<string, unknown>;
  if (!Array.isArray(messages))
    throw new ChatValidationFailure(
      'Failed to deserialize the JSON body into the target type: missing field `messages`',
    );
  if (messages.length === 0) throw new ChatValidationFailure('Input validation error: `messages` cannot be empty');
  let bytes = 0;
  for (const message of messages as unknown[]) bytes += Buffer.byteLength(contentOf(message));
  const maxTokens = max_tokens ?? defaultMaxTokens;
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens <= 0)
    throw new ChatValidationFailure(
      'Input validation error: `max_new_tokens` must be strictly positive',
      stream === true,
    );
  return {
    stream: stream === true,
    includeUsage: (stream_options as { include_usage?: unknown } | null | undefined)?.include_usage === true,
    maxTokens,
    // The same stand-in tokenizer as /generate's, over the messages' text (no chat template).
    inputLength: Math.max(1, Math.ceil(bytes / 4)),
  };
}

function contentOf(message: unknown): string {
  if (typeof message !== 'object' || message === null)
    throw new ChatValidationFailure('Failed to deserialize the JSON body into the target type: invalid message');
  const { role, content } = message as { role?: unknown; content?: unknown };
  if (typeof role !== 'string')
    throw new ChatValidationFailure('Failed to deserialize the JSON body into the target type: missing field `role`');
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content
      .map((part: unknown) => {
        const text = (part as { text?: unknown } | null)?.text;
        return typeof text === 'string' ? text : '';
      })
      .join('');
  if (content === null || content === undefined) return '';
  throw new ChatValidationFailure('Failed to deserialize the JSON body into the target type: invalid `content`');
}

/** TGI formats its finish reasons OpenAI's way on the `/v1` routes: the EOS token is `stop`. */
function chatFinishReason(finish: MockFinishReason): OpenAiFinishReason {
  return finish === 'eos_token' ? 'stop' : 'length';
}

const FINGERPRINT = '3.3.6-sluice-bench-mock';

/** Chat chunks per (n, finish), precomputed like the /generate_stream frames; `created` is the cache entry's. */
export class ChatFrameCache {
  private readonly entries = new Map<string, ChatFrames>();

  constructor(private readonly modelId: string) {}

  get(answer: CachedAnswer, finish: MockFinishReason): ChatFrames {
    const n = answer.tokens.length;
    const key = `${n}:${finish}`;
    let entry = this.entries.get(key);
    if (!entry) {
      const created = Math.floor(Date.now() / 1000);
      const chunk = (content: string, finishReason: OpenAiFinishReason | null): OpenAiChatCompletionChunk => ({
        id: '',
        object: 'chat.completion.chunk',
        created,
        model: this.modelId,
        system_fingerprint: FINGERPRINT,
        choices: [{ index: 0, delta: { role: 'assistant', content }, logprobs: null, finish_reason: finishReason }],
        usage: null,
      });
      const contents = answer.tokens.map((t) => (t.special ? '' : t.text));
      const frames = contents.slice(0, -1).map((c) => Buffer.from(chatFrame(chunk(c, null))));
      const reason = chatFinishReason(finish);
      entry = {
        frames,
        allButLast: Buffer.concat(frames),
        last: chatFrame(chunk(contents.at(-1) ?? '', reason)),
        usage: (prompt: number): string =>
          chatFrame({
            id: '',
            object: 'chat.completion.chunk',
            created,
            model: this.modelId,
            system_fingerprint: FINGERPRINT,
            choices: [],
            usage: usageOf(prompt, n),
          }),
        completion: (prompt: number): string =>
          JSON.stringify({
            id: '',
            object: 'chat.completion',
            created,
            model: this.modelId,
            system_fingerprint: FINGERPRINT,
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content: answer.text },
                logprobs: null,
                finish_reason: reason,
              },
            ],
            usage: usageOf(prompt, n),
          } satisfies OpenAiChatCompletion),
      };
      this.entries.set(key, entry);
    }
    return entry;
  }
}

export interface ChatFrames {
  /** Chunks of tokens 1..n−1, one buffer each (for timed streams). */
  frames: Buffer[];
  /** The same, joined. */
  allButLast: Buffer;
  /** The chunk of token n, with its finish_reason. */
  last: string;
  /** The usage chunk (`choices: []`), for a prompt of this many tokens. */
  usage(promptTokens: number): string;
  /** The non-streamed answer. */
  completion(promptTokens: number): string;
}

/** The stream's end, after the last chunk (and the usage chunk when asked for), as TGI sends it. */
export const CHAT_DONE_FRAME = 'data:[DONE]\n\n';

function usageOf(prompt: number, completion: number): OpenAiUsage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** axum's SSE framing, as TGI sends it. */
function chatFrame(data: OpenAiChatCompletionChunk): string {
  return `data:${JSON.stringify(data)}\n\n`;
}
