import { BackendCall, type CallTarget } from './backend-call.js';
import type { CallOptions, GenerationOutcome } from './inference-backend.js';
import { SseParser, type SseSink } from './sse-parser.js';

/**
 * The protocol of one route's events: how each event's `data` reads, and what a clean end of the stream means.
 * One per call (it may hold what the stream has said so far); it reports through the call: `eventArrived`, `fail`,
 * `succeed`.
 */
export interface SseEventReader {
  /** One event's `data`, never empty, while the call is unsettled. */
  read(data: string, call: BackendCall): void;
  /** The response ended cleanly (all of it arrived) with the call still unsettled. */
  endOfStream(call: BackendCall): void;
}

/** Hands the parser's events to the route's reader, with the call they belong to. */
class SseEvents implements SseSink {
  constructor(
    private readonly call: BackendCall,
    private readonly reader: SseEventReader,
  ) {}

  onSseData(data: string): void {
    if (data.length > 0 && this.call.pending) this.reader.read(data, this.call);
  }

  /** llama-server's `error: {"code", "message", "type"}` field: the call fails with what it says, as from a `data:` one. */
  onSseError(value: string): void {
    if (!this.call.pending) return;
    let said: unknown = value;
    try {
      said = JSON.parse(value);
    } catch {
      // not JSON: its text is the message
    }
    this.call.failWithErrorEvent({ error: said });
  }

  onSseEnd(): void {
    this.reader.endOfStream(this.call);
  }
}

/**
 * A call whose answer is a stream of server-sent events: the SSE parser is the call's body reader, so a chunk costs
 * the call one method call, as does each event its route's reader.
 */
export function streamCall(
  target: CallTarget,
  body: string,
  options: CallOptions,
  reader: SseEventReader,
): Promise<GenerationOutcome> {
  const call = new BackendCall(target, body, options);
  return call.run(new SseParser(new SseEvents(call, reader)));
}
