import type { ServerResponse } from 'node:http';
import { errorEvent, type ErrorReply } from './error-responses.js';

/**
 * An event stream to the client: TGI-style (`data:{json}\n\n`) or OpenAI-style (`data: {json}\n\n`, ended by
 * `data: [DONE]`). Headers go out with the first event, so a request that fails before its first token still gets a
 * proper HTTP status and a JSON error instead of a 200 stream.
 */
export class SseResponse {
  private started = false;
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

  send(data: unknown): void {
    this.sendJson(JSON.stringify(data));
  }

  /** Events whose JSON text is already made, in one write (each write is a syscall and a read for the client). */
  sendJson(...jsons: string[]): void {
    if (this.open()) this.res.write(this.framed(jsons));
  }

  /** The last events, OpenAI's `[DONE]` when asked, and the end of the answer, in one write. */
  finish(jsons: readonly string[], { done = false }: { done?: boolean } = {}): void {
    if (!this.open()) return;
    this.res.end(done ? `${this.framed(jsons)}${this.prefix}[DONE]\n\n` : this.framed(jsons));
  }

  /** Whether events may still be written; the first one sends the 200 and the headers. */
  private open(): boolean {
    if (this.res.writableEnded || this.res.destroyed) return false;
    if (!this.started) {
      this.started = true;
      this.res.writeHead(200, {
        ...this.headers,
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
      });
    }
    return true;
  }

  private framed(jsons: readonly string[]): string {
    if (jsons.length === 1) return `${this.prefix}${jsons[0]}\n\n`;
    let text = '';
    for (const json of jsons) text += `${this.prefix}${json}\n\n`;
    return text;
  }

  /** An error in the form the stream still allows: its last event once the 200 is out, else the JSON answer. */
  fail(reply: ErrorReply): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    if (this.started) this.res.write(errorEvent(reply));
    else this.res.writeHead(reply.status, reply.headers).write(JSON.stringify(reply.body));
  }

  end(): void {
    if (!this.res.writableEnded) this.res.end();
  }
}
