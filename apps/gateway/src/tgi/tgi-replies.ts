import type { FastifyReply, FastifyRequest } from 'fastify';
import { overlaid, type TgiGenerateResponse, type TgiStreamEvent } from '#backends';
import { answerWhileConnected, type ClientSide } from '../http/client-disconnect.js';
import { exchangeOf } from '../http/exchange.js';
import { errorAnswer } from '../http/exception.filter.js';
import { SseResponse } from '../http/sse-response.js';
import { noteResult } from '../metrics/request-observation.js';
import { serveContext } from '../serving/serving-path.service.js';
import { answerDetails, DetailsCollector } from './tgi-details.js';
import type { PreparedTgiGeneration } from './tgi-generation.service.js';

/**
 * Writes the answer of a per-model TGI route in TGI's shape: `{generated_text, details?}` (in an array of one on
 * the compat route), or TGI's events as the backend sent them. A client that leaves aborts the call and gets nothing.
 */
export async function replyTgi(
  prepared: PreparedTgiGeneration,
  request: FastifyRequest,
  reply: FastifyReply,
  { array = false }: { array?: boolean } = {},
): Promise<void> {
  await answerWhileConnected(exchangeOf(request, reply), async (client) => {
    if (prepared.request.stream) await stream(prepared, request, reply, client);
    else {
      const { details } = prepared.request;
      const collector = new DetailsCollector(prepared.request.topNTokens > 0);
      const result = await prepared.run({
        ...client,
        ...(details ? { onToken: collector.onToken } : {}),
      });
      noteResult(request.raw, result);
      const answer: TgiGenerateResponse = {
        generated_text: result.outcome.generatedText,
        ...(details ? { details: answerDetails(result.outcome, collector) } : {}),
      };
      await reply.send(array ? [answer] : answer);
    }
  });
}

const NO_DETAILS = Object.freeze({ details: null });

/** The backend is always asked for details (its last event makes the outcome); a client that did not gets null. */
async function stream(
  prepared: PreparedTgiGeneration,
  request: FastifyRequest,
  reply: FastifyReply,
  client: ClientSide,
): Promise<void> {
  reply.hijack();
  const sse = new SseResponse(reply.raw, { 'x-request-id': request.id });
  const { details } = prepared.request;
  const relay = (event: TgiStreamEvent) =>
    sse.send(details || event.details === null ? event : overlaid(event, NO_DETAILS));
  try {
    const result = await prepared.run(serveContext(client, { onToken: relay }));
    noteResult(request.raw, result);
  } catch (error) {
    if (!client.departed.aborted) sse.fail(errorAnswer(error, request));
  } finally {
    sse.end();
  }
}
