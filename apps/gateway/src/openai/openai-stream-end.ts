import type { GenerationOutcome } from '#backends';
import type { ClientSide } from '../http/client-disconnect.js';
import { errorAnswer } from '../http/exception.filter.js';
import type { RequestView } from '../http/exchange.js';
import type { SseResponse } from '../http/sse-response.js';
import { noteResult } from '../metrics/request-observation.js';
import type { GenerateResult } from '../serving/serving-path.service.js';

/** What the chat and the completion chunk builders both make at the end of a stream. */
interface ClosingChunks {
  finish(outcome: GenerationOutcome): string;
  usage(outcome: GenerationOutcome): string;
}

export interface StreamEnd {
  /** The chunks of the text held back for a stop sequence, released once the generation is done. */
  heldBack(): string[];
  chunks: ClosingChunks;
  includeUsage: boolean;
}

/**
 * How a streamed OpenAI answer ends, for chats and completions alike: once the generation is done, the held-back
 * text's chunks, the finish chunk, the usage chunk if it was asked for, then `[DONE]`, in one write; a failure is the
 * stream's last event, unless the client has left.
 */
export async function endOpenAiStream(
  sse: SseResponse,
  request: RequestView,
  client: ClientSide,
  generate: () => Promise<GenerateResult>,
  end: StreamEnd,
): Promise<void> {
  try {
    const result = await generate();
    noteResult(request.raw, result);
    const last = end.heldBack();
    last.push(end.chunks.finish(result.outcome));
    if (end.includeUsage) last.push(end.chunks.usage(result.outcome));
    sse.finish(last, { done: true });
  } catch (error) {
    if (!client.departed.aborted) sse.fail(errorAnswer(error, request));
  } finally {
    sse.end();
  }
}
