import type { OpenAiChatCompletion, OpenAiChatCompletionChunk, OpenAiTokenLogprob } from '../openai-protocol.js';
import type { TgiErrorType, TgiFinishReason, TgiToken } from '../tgi-protocol.js';
import { plannedTokens, RequestFailure, wordCount, type StandInRoute, type TokenPlan } from './stand-in-route.js';
import type { StandInScript } from './tgi-stand-in.js';

/**
 * TGI 3.x's Messages API, `POST /v1/chat/completions`, on the stand-in (TGI's router/src/server.rs chat_completions,
 * chat.rs and lib.rs): `id` "", `system_fingerprint` "<version>-native", one chunk per token whose delta always has
 * the role (the end token's content is ""), `usage` null but in the extra usage chunk with no choices (with
 * `stream_options.include_usage`), finish reasons `stop` (for the end token), `length` and `stop_sequence`, and
 * `data:[DONE]` last, after an error event too.
 */
interface ChatPlan extends TokenPlan {
  model: string;
  created: number;
  includeUsage: boolean;
  /** Top logprobs per token when logprobs were asked for, else null. */
  topLogprobs: number | null;
  roleChunkFirst: boolean;
}

/** The wire's chunk as TGI writes it: its finish reasons go beyond OpenAI's. */
type WireChunk = Omit<OpenAiChatCompletionChunk, 'choices'> & {
  choices: Array<
    Omit<OpenAiChatCompletionChunk['choices'][number], 'finish_reason' | 'delta' | 'logprobs'> & {
      delta: { role: 'assistant'; content: string };
      logprobs: { content: WireLogprob[] } | null;
      finish_reason: string | null;
    }
  >;
};

/** TGI's ChatCompletionLogprob: no `bytes`. */
type WireLogprob = Omit<OpenAiTokenLogprob, 'bytes' | 'top_logprobs'> & {
  top_logprobs: Array<{ token: string; logprob: number }>;
};

export function chatRoute(modelId: string, version: string): StandInRoute<ChatPlan> {
  const fingerprint = `${version}-native`;
  const chunk = (plan: ChatPlan, choices: WireChunk['choices'], usage: WireChunk['usage'] = null): WireChunk => ({
    id: '',
    object: 'chat.completion.chunk',
    created: plan.created,
    model: plan.model,
    system_fingerprint: fingerprint,
    choices,
    usage,
  });
  return {
    streams: (body) => (body as { stream?: unknown } | null)?.stream === true,
    plan: (body, script) => planChat(body, script, modelId),
    tokenEvents(plan, i) {
      const token = plan.tokens[i]!;
      const last = i === plan.tokens.length - 1;
      const events: WireChunk[] = [];
      if (i === 0 && plan.roleChunkFirst) {
        // How vLLM and llama-server open their streams (TGI does not): a chunk with the role and no text.
        events.push(
          chunk(plan, [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]),
        );
      }
      const choice = {
        index: 0,
        delta: { role: 'assistant' as const, content: token.special ? '' : token.text },
        logprobs: plan.topLogprobs === null ? null : { content: [logprobOf(token, plan.topLogprobs)] },
        finish_reason: last ? chatFinishReason(plan.finishReason) : null,
      };
      events.push(chunk(plan, [choice]));
      if (last && plan.includeUsage) events.push(chunk(plan, [], usageOf(plan)));
      return events;
    },
    errorEvent: chatErrorEvent,
    streamEnd: (script) => (script.omitDone ? '' : 'data:[DONE]\n\n'),
    answer(plan) {
      const completion: Omit<OpenAiChatCompletion, 'choices'> & { choices: Array<Record<string, unknown>> } = {
        id: '',
        object: 'chat.completion',
        created: plan.created,
        model: plan.model,
        system_fingerprint: fingerprint,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: textOf(plan.tokens) },
            logprobs:
              plan.topLogprobs === null ? null : { content: plan.tokens.map((t) => logprobOf(t, plan.topLogprobs!)) },
            finish_reason: chatFinishReason(plan.finishReason),
          },
        ],
        usage: usageOf(plan),
      };
      return {
        body: completion,
        headers: { 'x-prompt-tokens': String(plan.inputLength), 'x-generated-tokens': String(plan.tokens.length) },
      };
    },
  };
}

/** TGI's checks: a body that does not deserialize is refused before any stream; `max_tokens` inside it. */
function planChat(body: unknown, script: StandInScript, modelId: string): ChatPlan {
  const messages = (body as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages))
    throw new RequestFailure(
      'validation',
      'Failed to deserialize the JSON body into the target type: missing field `messages`',
      true,
    );
  const request = body as {
    model?: unknown;
    max_tokens?: unknown;
    logprobs?: unknown;
    top_logprobs?: unknown;
    stream_options?: { include_usage?: unknown } | null;
  };
  const words = messages.reduce<number>((sum, m) => sum + wordCount(contentOf(m)), 0);
  return {
    // TGI's default max_tokens is 1024; the route validates it as /generate's max_new_tokens.
    ...plannedTokens(script, request.max_tokens ?? 1024),
    inputLength: script.inputLength ?? words,
    model: typeof request.model === 'string' && request.model !== 'tgi' ? request.model : modelId,
    created: Math.floor(Date.now() / 1000),
    includeUsage: request.stream_options?.include_usage === true,
    topLogprobs:
      request.logprobs === true ? (typeof request.top_logprobs === 'number' ? request.top_logprobs : 0) : null,
    roleChunkFirst: script.roleChunkFirst === true,
  };
}

function contentOf(message: unknown): string {
  const content = (message as { content?: unknown } | null)?.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (part as { text?: unknown } | null)?.text)
    .filter((text): text is string => typeof text === 'string')
    .join('');
}

function textOf(tokens: TgiToken[]): string {
  return tokens
    .filter((t) => !t.special)
    .map((t) => t.text)
    .join('');
}

/** FinishReason::format(true): the end token reads `stop` on the `/v1` routes. */
function chatFinishReason(reason: TgiFinishReason): string {
  return reason === 'eos_token' ? 'stop' : reason;
}

/** The token, then `top` candidates, the token itself first (as the most likely). */
function logprobOf(token: TgiToken, top: number): WireLogprob {
  const logprob = token.logprob ?? 0;
  return {
    token: token.text,
    logprob,
    top_logprobs: Array.from({ length: top }, (_, k) => ({
      token: k === 0 ? token.text : `${token.text}~${k}`,
      logprob: logprob - k,
    })),
  };
}

function usageOf(plan: ChatPlan) {
  const completion = plan.tokens.length;
  return {
    prompt_tokens: plan.inputLength,
    completion_tokens: completion,
    total_tokens: plan.inputLength + completion,
  };
}

/**
 * TGI 3.x streams its errors in OpenAI's envelope with a fixed 422 (infer/mod.rs, into_openai_event); older TGI sent
 * its ErrorResponse; OpenAI and vLLM send `{message, type, param, code}`.
 */
function chatErrorEvent(errorType: TgiErrorType, message: string, script: StandInScript): object {
  switch (script.chatErrorForm ?? 'tgi') {
    case 'tgi':
      return { error: { message, http_status_code: 422 } };
    case 'error-response':
      return { error: message, error_type: errorType };
    case 'openai': {
      const [type, code] =
        errorType === 'validation'
          ? ['invalid_request_error', null]
          : errorType === 'overloaded'
            ? ['rate_limit_error', 'rate_limit_exceeded']
            : ['server_error', null];
      return { error: { message, type, param: null, code } };
    }
  }
}
