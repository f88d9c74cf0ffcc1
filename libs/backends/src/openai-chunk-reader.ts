import { CLOSED_EARLY, type BackendCall } from './backend-call.js';
import type { SseEventReader } from './sse-call.js';

/** What every OpenAI-protocol stream chunk may carry besides its choices. */
export interface OpenAiChunkOnTheWire<Choice> {
  choices?: Choice[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: unknown;
}

const DONE = '[DONE]';

/**
 * What completions and chat streams read alike: each event is progress for the timers, `data: [DONE]` ends the stream,
 * a chunk with an `error` key fails the call, a `usage` is kept; the route's reader reads the first choice of each
 * chunk that has one (vLLM's and llama-server's usage chunk has none), and completes the stream its own way.
 */
export abstract class OpenAiChunkReader<Choice> implements SseEventReader {
  protected inputTokens: number | undefined;
  protected outputTokens: number | undefined;
  protected lastEventAt = 0;

  read(data: string, call: BackendCall): void {
    this.lastEventAt = call.eventArrived();
    if (data === DONE) return this.complete(call, 'backend sent `[DONE]` before any finish_reason');
    const chunk = call.parseObject(data) as OpenAiChunkOnTheWire<Choice> | undefined;
    if (chunk === undefined) return;
    if (chunk.error !== undefined) return call.failWithErrorEvent(chunk);
    const { usage } = chunk;
    if (usage != null) {
      this.inputTokens = usage.prompt_tokens;
      this.outputTokens = usage.completion_tokens;
    }
    const choice = chunk.choices?.[0];
    if (choice !== undefined) this.readChoice(choice, call);
  }

  endOfStream(call: BackendCall): void {
    this.complete(call, CLOSED_EARLY);
  }

  /** A chunk's first choice, with the call unsettled. */
  protected abstract readChoice(choice: Choice, call: BackendCall): void;

  /** The stream is over: complete if a finish reason came, else fail the call with `incomplete`. */
  protected abstract complete(call: BackendCall, incomplete: string): void;
}
