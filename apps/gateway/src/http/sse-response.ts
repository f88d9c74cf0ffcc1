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

  /** An event whose JSON text is already made. */
  sendJson(json: string): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    if (!this.started) {
      this.started = true;
      this.res.writeHead(200, {
        ...this.headers,
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
      });
    }
    this.res.write(`${this.prefix}${json}\n\n`);
  }

  /** OpenAI's end-of-stream marker. */
  sendDone(): void {
    if (this.started && !this.res.writableEnded && !this.res.destroyed) this.res.write(`${this.prefix}[DONE]\n\n`);
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
