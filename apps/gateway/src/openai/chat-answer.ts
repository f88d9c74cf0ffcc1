import type { ChatDelta } from '#backends';
import { answerExchange, type ClientSide } from '../http/client-disconnect.js';
import { writeJsonAnswer, type Exchange } from '../http/exchange.js';
import { SseResponse } from '../http/sse-response.js';
import { noteResult } from '../metrics/request-observation.js';
import { serveContext } from '../serving/serving-path.service.js';
import type { ChatCompletionRequestDto } from './chat-completion-request.dto.js';
import { answerHeader, chatCompletion, ChatChunks } from './openai-answers.js';
import type { OpenAiGenerationService, PreparedGeneration } from './openai-generation.service.js';
import { stopSequences } from './openai-request-rules.js';
import { endOpenAiStream } from './openai-stream-end.js';
import { cutAtStop, StopSequenceHoldback } from './stop-sequence-holdback.js';

/**
 * Answers a valid POST /v1/chat/completions body, OpenAI's JSON or its chunks, and every refusal or failure in
 * OpenAI's error shape: the one answer of the route, whether Fastify's route or the hot routes took the request.
 */
export async function answerChat(
  generation: OpenAiGenerationService,
  body: ChatCompletionRequestDto,
  exchange: Exchange,
): Promise<void> {
  await answerExchange(exchange, async (client) => {
    const prepared = generation.prepareChat(body);
    if (body.stream) return stream(prepared, body, exchange, client);
    const result = await prepared.run(client);
    noteResult(exchange.raw, result);
    const { outcome } = result;
    const content = cutAtStop(outcome.generatedText, stopSequences(body.stop) ?? []);
    writeJsonAnswer(exchange, chatCompletion(answerHeader('chatcmpl', result.modelId, exchange.id), outcome, content));
  });
}

/** The role chunk goes out with the first delta, so a refusal before it is still an HTTP error. */
async function stream(
  prepared: PreparedGeneration,
  body: ChatCompletionRequestDto,
  exchange: Exchange,
  client: ClientSide,
): Promise<void> {
  const sse = new SseResponse(exchange.res, { 'x-request-id': exchange.id }, { framing: 'openai' });
  const includeUsage = body.stream_options?.include_usage === true;
  const chunks = new ChatChunks(answerHeader('chatcmpl', prepared.modelId, exchange.id), includeUsage);
  const holdback = new StopSequenceHoldback(stopSequences(body.stop) ?? []);
  /** The chunks for these deltas, after the role chunk if nothing was sent yet. */
  const chunksOf = (deltas: ChatDelta[]): string[] => {
    const out = sse.hasStarted ? [] : [chunks.role()];
    for (const delta of deltas) out.push(chunks.content(delta));
    return out;
  };
  const run = () =>
    prepared.run(
      serveContext(client, {
        onDelta: (delta) => {
          const events = chunksOf(holdback.push(delta));
          if (events.length > 0) sse.sendJson(...events);
        },
      }),
    );
  await endOpenAiStream(sse, exchange, client, run, {
    heldBack: () => chunksOf(holdback.flush()),
    chunks,
    includeUsage,
  });
}
