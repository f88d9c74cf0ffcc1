import type { FastifyInstance, FastifyReply } from 'fastify';
import type { EngineConfigDraft } from '../config.js';
import { toErrorBody } from '../errors.js';
import type { GenerationResult } from '../generator.js';
import type { InferenceService, PreparedGeneration } from '../inference.js';
import { validateChatRequest, validateCompletionRequest } from '../openai-validation.js';
import type { ValidationLimits } from '../validation.js';
import { abortOnDisconnect } from './client-disconnect.js';
import {
  answerIdentity,
  chatChunk,
  chatCompletion,
  chatLogprob,
  chatUsageChunk,
  completionChunk,
  completionFinal,
  type TgiChatLogprob,
} from './openai-responses.js';
import { SseWriter } from './sse.js';

export interface OpenAiRouteDeps {
  config: EngineConfigDraft;
  inference: InferenceService;
  limits: () => ValidationLimits;
}

/**
 * TGI's routes for OpenAI clients, on the same admission, sequence pool, metrics and disconnect handling as
 * /generate. Everything that can refuse a request (admission 429, input 422, readiness 503, token budget and
 * grammar 422) runs before a stream's headers, so a refusal is a status; what fails later is a stream event.
 */
export function registerOpenAiRoutes(app: FastifyInstance, { config, inference, limits }: OpenAiRouteDeps): void {
  app.post('/v1/chat/completions', async (request, reply) => {
    const release = inference.admit();
    try {
      const chat = inference.validateWith(() => validateChatRequest(request.body, limits()));
      const prepared = await inference.prepare({
        input: { messages: chat.messages },
        parameters: chat.parameters,
        logprobs: chat.logprobs,
      });
      const identity = answerIdentity(config.modelId, 'chatcmpl');
      if (!chat.stream) {
        const result = await executeForReply(inference, prepared, reply);
        return withTokenCounts(reply, result).send(chatCompletion(identity, result, chat.logprobs));
      }
      await streamAnswer(reply, async (sse, signal) => {
        // The last token's chunk waits for the result: it carries the finish reason.
        let last: { text: string; logprob: TgiChatLogprob | null } | undefined;
        const result = await inference.execute(prepared, signal, (token, top, isLast, text) => {
          const logprob = chat.logprobs ? chatLogprob(token, top) : null;
          if (isLast) last = { text, logprob };
          else sse.send(chatChunk(identity, text, logprob, null));
        });
        sse.send(chatChunk(identity, last?.text ?? '', last?.logprob ?? null, result.finishReason));
        if (chat.includeUsage) sse.send(chatUsageChunk(identity, result));
      });
    } finally {
      release();
    }
  });

  app.post('/v1/completions', async (request, reply) => {
    const release = inference.admit();
    try {
      const completion = inference.validateWith(() => validateCompletionRequest(request.body, limits()));
      const prepared = await inference.prepare({
        input: { text: completion.prompt },
        parameters: completion.parameters,
        logprobs: false,
      });
      const identity = answerIdentity(config.modelId, 'cmpl');
      if (!completion.stream) {
        const result = await executeForReply(inference, prepared, reply);
        return withTokenCounts(reply, result).send(completionFinal(identity, result.text, result));
      }
      await streamAnswer(reply, async (sse, signal) => {
        let lastText = '';
        const result = await inference.execute(prepared, signal, (_token, _top, isLast, text) => {
          if (isLast) lastText = text;
          else sse.send(completionChunk(identity, text));
        });
        sse.send(completionFinal(identity, lastText, result));
      });
    } finally {
      release();
    }
  });

  // TGI answers one ModelInfo (the served model), not OpenAI's list.
  app.get('/v1/models', () => ({ id: config.modelId, object: 'model', created: 0, owned_by: config.modelId }));
}

async function executeForReply(
  inference: InferenceService,
  prepared: PreparedGeneration,
  reply: FastifyReply,
): Promise<GenerationResult> {
  const abort = abortOnDisconnect(reply);
  try {
    return await inference.execute(prepared, abort.signal);
  } finally {
    abort.dispose();
  }
}

function withTokenCounts(reply: FastifyReply, result: GenerationResult): FastifyReply {
  return reply.headers({
    'x-prompt-tokens': String(result.inputLength),
    'x-generated-tokens': String(result.tokens.length),
  });
}

/**
 * Server-sent events ending with `data:[DONE]`; an error after the headers is a `{error, error_type}` event before
 * it, as TGI's streams send theirs. A client that left gets nothing more: its sequence is already given back.
 */
async function streamAnswer(
  reply: FastifyReply,
  run: (sse: SseWriter, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  reply.hijack();
  const sse = new SseWriter(reply.raw, {});
  const abort = abortOnDisconnect(reply);
  try {
    await run(sse, abort.signal);
  } catch (error) {
    if (!abort.signal.aborted) sse.send(toErrorBody(error).body);
  } finally {
    abort.dispose();
    if (!abort.signal.aborted) sse.sendDone();
    sse.end();
  }
}
