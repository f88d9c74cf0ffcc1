import type { ServerResponse } from 'node:http';
import { eventJson, overlaid } from '#backends';
import { errorEvent, type ErrorReply } from './error-responses.js';

/**
 * An event stream to the client: TGI-style (`data:{json}\n\n`) or OpenAI-style (`data: {json}\n\n`, ended by
 * `data: [DONE]`). Headers go out with the first event, so a request that fails before its first token still gets a
 * proper HTTP status and a JSON error instead of a 200 stream.
 */
export class SseResponse {
  private started = false;
  /** The framed events of this turn not yet written: they go out together once the turn is over (`flush`). */
  private pending = '';
  private flushing = false;
  private readonly prefix: string;

  constructor(
    private readonly res: ServerResponse,
    private readonly headers: Record<string, string>,
    { framing = 'tgi' }: { framing?: 'tgi' | 'openai' } = {},
  ) {
    this.prefix = framing === 'openai' ? 'data: ' : 'data:';
  }

  get hasStarted(): boolean {
    return this.started;
  }

  /** An event: a backend's event that came through unchanged goes out as the backend wrote it. */
  send(data: object): void {
    this.sendJson(eventJson(data));
  }

  /**
   * Events whose JSON text is already made. Every event sent in one turn of the event loop (the events of one chunk
   * from the backend, the end of the answer) goes out in one write of one string: each write is a syscall here and a
   * read for the client, and each `write()` is Node's work to measure, buffer and frame; a backend's chunk often
   * carries several events. The flush waits for `setImmediate`, after the turn's promise jobs: a chunk that holds the
   * stream's last event settles the generation through several of them, and its `finish()` then takes this turn's
   * events with it into one write, where a flush on `process.nextTick` (before promise jobs) wrote them alone first.
   */
  sendJson(...jsons: string[]): void {
    if (!this.open()) return;
    this.pending += this.framed(jsons);
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(flushEvents, this);
    }
  }

  /** The events of this turn go out (called once the turn is over, unless the answer's end took them with it). */
  flush(): void {
    this.flushing = false;
    const text = this.takePending();
    if (text !== '' && !this.res.writableEnded && !this.res.destroyed) this.res.write(text);
  }

  /** The last events, OpenAI's `[DONE]` when asked, and the end of the answer, in one write. */
  finish(jsons: readonly string[], { done = false }: { done?: boolean } = {}): void {
    if (!this.open()) return;
    const last = done ? `${this.framed(jsons)}${this.prefix}[DONE]\n\n` : this.framed(jsons);
    this.res.end(this.takePending() + last);
  }

  /** Whether events may still be written; the first one sends the 200 and the headers. */
  private open(): boolean {
    if (this.res.writableEnded || this.res.destroyed) return false;
    if (!this.started) {
      this.started = true;
      this.res.writeHead(200, overlaid(this.headers, EVENT_STREAM_HEADERS));
    }
    return true;
  }

  private framed(jsons: readonly string[]): string {
    if (jsons.length === 1) return `${this.prefix}${jsons[0]}\n\n`;
    let text = '';
    for (const json of jsons) text += `${this.prefix}${json}\n\n`;
    return text;
  }

  private takePending(): string {
    const text = this.pending;
    this.pending = '';
    return text;
  }

  /** An error in the form the stream still allows: its last event once the 200 is out, else the JSON answer. */
  fail(reply: ErrorReply): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    if (this.started) this.res.write(this.takePending() + errorEvent(reply));
    else this.res.writeHead(reply.status, reply.headers).write(JSON.stringify(reply.body));
  }

  end(): void {
    if (!this.res.writableEnded) this.res.end(this.takePending()); // an empty string writes nothing
  }
}

const EVENT_STREAM_HEADERS = Object.freeze({
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
});

/** The flush callback gets the stream as an argument: no closure per write. */
function flushEvents(sse: SseResponse): void {
  sse.flush();
}
