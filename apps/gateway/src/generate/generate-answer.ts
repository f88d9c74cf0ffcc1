import { overlaid, type TgiStreamEvent } from '#backends';
import { answerExchange, type ClientSide } from '../http/client-disconnect.js';
import { errorAnswer } from '../http/exception.filter.js';
import { writeJsonAnswer, type Exchange } from '../http/exchange.js';
import { SseResponse } from '../http/sse-response.js';
import { noteResult } from '../metrics/request-observation.js';
import { serveContext } from '../serving/serving-path.service.js';
import { answerDetails, DetailsCollector } from '../tgi/tgi-details.js';
import type { GenerateRequestDto } from './generate-request.dto.js';
import { toGenerateResponse } from './generate-response.dto.js';
import type { GenerateService } from './generate.service.js';

/**
 * Answers a valid POST /v1/generate body, the JSON answer or TGI-style events, and every refusal or failure in the
 * gateway's error shape: the one answer of the route, whether Fastify's route or the hot routes took the request.
 */
export async function answerGenerate(
  generation: GenerateService,
  body: GenerateRequestDto,
  exchange: Exchange,
): Promise<void> {
  await answerExchange(exchange, async (client) => {
    if (body.stream) return stream(generation, body, exchange, client);
    const details = body.parameters?.details === true;
    const collector = details ? new DetailsCollector((body.parameters?.top_n_tokens ?? 0) > 0) : undefined;
    const result = await generation.generate(body, serveContext(client, { onToken: collector?.onToken }));
    noteResult(exchange.raw, result);
    const response = toGenerateResponse(
      result,
      exchange.id,
      exchange.elapsedMs(),
      collector ? answerDetails(result.outcome, collector) : undefined,
    );
    writeJsonAnswer(exchange, response, { 'x-gateway-overhead-ms': String(response.gateway_overhead_ms) });
  });
}

/** Relays the backend's events as they come; the last one also carries the gateway's summary. */
async function stream(
  generation: GenerateService,
  body: GenerateRequestDto,
  exchange: Exchange,
  client: ClientSide,
): Promise<void> {
  const sse = new SseResponse(exchange.res, { 'x-request-id': exchange.id });
  let finalEvent: TgiStreamEvent | undefined;
  try {
    const result = await generation.generate(
      body,
      serveContext(client, {
        onToken: (event) => {
          if (event.generated_text === null) sse.send(event);
          else finalEvent = event; // held back: it goes out with the gateway's summary below
        },
      }),
    );
    noteResult(exchange.raw, result);
    const summary = toGenerateResponse(result, exchange.id, exchange.elapsedMs());
    sse.finish([JSON.stringify(overlaid(finalEvent, summary))]);
  } catch (error) {
    if (!client.departed.aborted) sse.fail(errorAnswer(error, exchange));
  } finally {
    sse.end();
  }
}
