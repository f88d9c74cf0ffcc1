import type { FastifyReply, FastifyRequest } from 'fastify';
import { answerWhileConnected, type ClientSide } from '../http/client-disconnect.js';
import { exchangeOf } from '../http/exchange.js';
import { SseResponse } from '../http/sse-response.js';
import { noteResult } from '../metrics/request-observation.js';
import { serveContext } from '../serving/serving-path.service.js';
import type { CompletionRequestDto } from './completion-request.dto.js';
import { promptOf } from './completion-request-mapping.js';
import { answerHeader, completion, CompletionChunks } from './openai-answers.js';
import type { PreparedGeneration } from './openai-generation.service.js';
import { stopSequences } from './openai-request-rules.js';
import { endOpenAiStream } from './openai-stream-end.js';
import { cutAtStop, StopSequenceHoldback } from './stop-sequence-holdback.js';

/**
 * Answers a completion request, OpenAI's JSON or its chunks, for `/v1/completions` and a model's own
 * `/models/{id}/v1/completions`; `prepare` applies the route's rules (a refusal is thrown before any answer starts).
 */
export async function replyCompletion(
  prepare: () => PreparedGeneration,
  body: CompletionRequestDto,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  await answerWhileConnected(exchangeOf(request, reply), async (client) => {
    const prepared = prepare();
    if (body.stream) await stream(prepared, body, request, reply, client);
    else {
      const result = await prepared.run(client);
      noteResult(request.raw, result);
      // With echo, the backend's text is the full text (TGI's return_full_text): the prompt and its completion.
      const header = answerHeader('cmpl', result.modelId, request.id);
      const echoed = body.echo === true ? promptOf(body).length : 0;
      const text = cutAtStop(result.outcome.generatedText, stopSequences(body.stop) ?? [], echoed);
      await reply.send(completion(header, text, result.outcome));
    }
  });
}

/** One chunk per token (special tokens carry no text); with echo, the prompt goes first. */
async function stream(
  prepared: PreparedGeneration,
  body: CompletionRequestDto,
  request: FastifyRequest,
  reply: FastifyReply,
  client: ClientSide,
): Promise<void> {
  reply.hijack();
  const sse = new SseResponse(reply.raw, { 'x-request-id': request.id }, { framing: 'openai' });
  const includeUsage = body.stream_options?.include_usage === true;
  const chunks = new CompletionChunks(answerHeader('cmpl', prepared.modelId, request.id), includeUsage);
  const holdback = new StopSequenceHoldback(stopSequences(body.stop) ?? []);
  /** The chunks for these pieces of text, after the echoed prompt if nothing was sent yet. */
  const chunksOf = (pieces: Array<{ content: string }>): string[] => {
    const out = sse.hasStarted || body.echo !== true ? [] : [chunks.text(promptOf(body))];
    for (const { content } of pieces) out.push(chunks.text(content));
    return out;
  };
  const run = () =>
    prepared.run(
      serveContext(client, {
        onToken: (event) => {
          if (event.token.special) return;
          const events = chunksOf(holdback.push({ content: event.token.text, logprobs: null }));
          if (events.length > 0) sse.sendJson(...events);
        },
      }),
    );
  await endOpenAiStream(sse, request, client, run, {
    heldBack: () => chunksOf(holdback.flush()),
    chunks,
    includeUsage,
  });
}
