import type { ServerResponse } from 'node:http';
import type { TgiErrorEvent, TgiStreamEvent } from '#backends';

const KEEP_ALIVE_MS = 15_000;

/**
 * Server-sent events written straight to the socket, framed as TGI (axum) frames them: `data:{json}\n\n`.
 * A comment line every 15 s keeps proxies from closing a stream that waits in the queue.
 */
export class SseWriter {
  private readonly keepAlive: NodeJS.Timeout;

  constructor(
    private readonly res: ServerResponse,
    headers: Record<string, string>,
  ) {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...headers,
    });
    res.flushHeaders();
    this.keepAlive = setInterval(() => this.res.write(':\n\n'), KEEP_ALIVE_MS).unref();
  }

  send(data: TgiStreamEvent | TgiErrorEvent | object): void {
    if (!this.res.writableEnded) this.res.write(`data:${JSON.stringify(data)}\n\n`);
  }

  /** The OpenAI-style routes' last event, after which a client stops reading. */
  sendDone(): void {
    if (!this.res.writableEnded) this.res.write('data:[DONE]\n\n');
  }

  end(): void {
    clearInterval(this.keepAlive);
    if (!this.res.writableEnded) this.res.end();
  }
}
