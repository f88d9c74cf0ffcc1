import type { ServerResponse } from 'node:http';

/**
 * A TGI-style event stream to the client (`data:{json}\n\n`). Headers go out with the first event, so a request
 * that fails before its first token still gets a proper HTTP status and a JSON error instead of a 200 stream.
 */
export class SseResponse {
  private started = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly headers: Record<string, string>,
  ) {}

  get hasStarted(): boolean {
    return this.started;
  }

  send(data: unknown): void {
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
    this.res.write(`data:${JSON.stringify(data)}\n\n`);
  }

  end(): void {
    if (!this.res.writableEnded) this.res.end();
  }
}
