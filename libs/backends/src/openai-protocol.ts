/**
 * The OpenAI wire shapes Sluice speaks, written once for every side: the gateway's OpenAI routes, the engine's
 * TGI-style `/v1/*` routes, the TGI stand-in, the backend client and the benchmark. Names follow OpenAI's API
 * reference with an `OpenAi` prefix; where TGI 3.x differs (contracts/tgi-openapi.json: `ChatRequest`,
 * `ChatCompletionChunk`, ...) the comment says so. Types only, like tgi-protocol.ts: nothing here costs a process
 * anything at run time.
 */

/** OpenAI's roles that a text-only gateway serves; `tool`/`function`/`developer` are refused where named. */
export type OpenAiRole = 'system' | 'user' | 'assistant';

/** A content part; only text parts are served (images are refused with 400). */
export interface OpenAiTextPart {
  type: 'text';
  text: string;
}

export interface OpenAiMessage {
  role: OpenAiRole;
  /** A string, or an array of text parts (joined without separator, as OpenAI and TGI do). */
  content: string | OpenAiTextPart[];
  name?: string;
}

/**
 * What `response_format` asks for. OpenAI's forms; TGI's own (`{type: "json", value: schema}`) is its
 * GrammarType, which the backend client sends to TGI-protocol backends.
 */
export type OpenAiResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; schema?: Record<string, unknown>; strict?: boolean | null } };

/** TGI's GrammarType, the `response_format` of its `/v1/chat/completions` (and `grammar` of `/generate`). */
export type TgiGrammar =
  | { type: 'json'; value: Record<string, unknown> }
  | { type: 'json_schema'; value: { name?: string; schema: Record<string, unknown> } }
  | { type: 'regex'; value: string };

/** The finish reasons of a choice; TGI 3.x also sends `eos_token` and `stop_sequence` on its `/v1` routes. */
export type OpenAiFinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls';

export interface OpenAiTopLogprob {
  token: string;
  logprob: number;
  bytes: number[] | null;
}

/** One generated token's logprob, as `choices[].logprobs.content[]` of a chat answer carries it. */
export interface OpenAiTokenLogprob extends OpenAiTopLogprob {
  top_logprobs: OpenAiTopLogprob[];
}

export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** POST /v1/chat/completions: the fields Sluice serves (the gateway's DTO says which others it refuses). */
export interface OpenAiChatRequest {
  model: string;
  messages: OpenAiMessage[];
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  stop?: string | string[] | null;
  seed?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  n?: number | null;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
  user?: string;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  response_format?: OpenAiResponseFormat | TgiGrammar | null;
}

export interface OpenAiChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: Array<{
    index: number;
    message: { role: 'assistant'; content: string; refusal?: null };
    logprobs: { content: OpenAiTokenLogprob[] } | null;
    finish_reason: OpenAiFinishReason;
  }>;
  usage: OpenAiUsage;
}

export interface OpenAiChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  system_fingerprint: string;
  /** Empty in the last chunk that carries `usage` (with `stream_options.include_usage`). */
  choices: Array<{
    index: number;
    /** The first chunk carries the role; later ones only content; the finishing one may be empty. */
    delta: { role?: 'assistant'; content?: string };
    logprobs: { content: OpenAiTokenLogprob[] } | null;
    finish_reason: OpenAiFinishReason | null;
  }>;
  /** Null in every chunk but the usage one, when usage was asked for; absent otherwise. */
  usage?: OpenAiUsage | null;
}

/** POST /v1/completions: a prompt string (TGI also takes an array of prompts; the gateway serves one). */
export interface OpenAiCompletionRequest {
  model: string;
  prompt: string;
  max_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  stop?: string | string[] | null;
  seed?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  n?: number | null;
  echo?: boolean | null;
  logprobs?: number | null;
  user?: string;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
}

/** The legacy completions logprobs: parallel arrays over the choice's tokens. */
export interface OpenAiCompletionLogprobs {
  tokens: string[];
  token_logprobs: Array<number | null>;
  top_logprobs: Array<Record<string, number>> | null;
  text_offset: number[];
}

export interface OpenAiCompletionChoice {
  index: number;
  text: string;
  logprobs: OpenAiCompletionLogprobs | null;
  finish_reason: OpenAiFinishReason | null;
}

/** The answer of /v1/completions, and (with `finish_reason` null until the last) each of its stream's chunks. */
export interface OpenAiCompletion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: OpenAiCompletionChoice[];
  usage?: OpenAiUsage | null;
}

export interface OpenAiModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

export interface OpenAiModelList {
  object: 'list';
  data: OpenAiModel[];
}

/**
 * OpenAI's error body; the SDK's error classes read it. `code` carries the gateway's taxonomy type
 * (`model_not_found`, `overloaded`, ...); `param` names the field at fault when one is.
 */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}
