import http from 'node:http';
import net from 'node:net';

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json<T = any>(): T;
}

/** A plain node:http request (no fetch), so tests see exactly what went over the wire. */
export function request(
  url: string,
  options: {
    method?: string;
    body?: unknown;
    rawBody?: string | Buffer;
    headers?: Record<string, string>;
    agent?: http.Agent;
  } = {},
): Promise<HttpResult> {
  const payload = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const headers: Record<string, string> = { ...options.headers };
  if (payload !== undefined && options.rawBody === undefined) headers['content-type'] ??= 'application/json';
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(
      url,
      { method: options.method ?? (payload === undefined ? 'GET' : 'POST'), headers, agent: options.agent },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    // A server may answer (413, say) and close before a large body is fully sent: the answer is what counts.
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ECONNRESET') setTimeout(() => answered || reject(error), 200);
      else reject(error);
    });
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export const postJson = (url: string, body: unknown) => request(url, { method: 'POST', body });

/** A whole SSE body's `data:` payloads, unparsed (an OpenAI stream ends with the non-JSON `[DONE]`). */
export function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .map((frame) =>
      frame
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n'),
    )
    .filter((data) => data.length > 0);
}

/** Parses a whole SSE body into its `data:` payloads (comments and blank lines skipped). */
export function parseSse(text: string): any[] {
  return sseData(text).map((data) => JSON.parse(data));
}

/**
 * Opens a streaming POST and calls `onEvent` for each SSE event as it arrives; `abort()` drops the connection.
 */
export function openStream(url: string, body: unknown, onEvent: (event: any) => void) {
  let req!: http.ClientRequest;
  const done = new Promise<{ status: number; events: any[] }>((resolve, reject) => {
    const events: any[] = [];
    req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          for (const event of parseSse(frame + '\n\n')) {
            events.push(event);
            onEvent(event);
          }
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, events }));
      res.on('error', reject);
      res.on('aborted', () => resolve({ status: res.statusCode ?? 0, events }));
    });
    req.on('error', (error) => (req.destroyed ? resolve({ status: 0, events }) : reject(error)));
    req.end(JSON.stringify(body));
  });
  return { done, abort: () => req.destroy() };
}

/**
 * Sends a large body over a raw socket in small chunks and stops at the first byte of the answer, as curl does:
 * a server that refuses a body by its Content-Length (413) answers before reading it and then closes, and a
 * client that keeps writing gets a reset that can swallow the answer.
 */
export function postLargeBody(url: string, body: Buffer): Promise<{ status: number; json(): any }> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const received: Buffer[] = [];
    let offset = 0;
    const writeNext = () => {
      if (received.length > 0 || offset >= body.length || socket.destroyed) return;
      const chunk = body.subarray(offset, offset + 16 * 1024);
      offset += chunk.length;
      socket.write(chunk, () => setTimeout(writeNext, 1));
    };
    socket.on('connect', () => {
      socket.write(
        `POST ${pathname} HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`,
      );
      // A pause after the headers, as a client waiting for `100 Continue` makes: a server refusing by Content-Length
      // answers now, with nothing unread on its socket, so its close is a FIN and not a reset that loses the answer.
      setTimeout(writeNext, 100);
    });
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => undefined); // the close below decides
    socket.on('close', () => {
      const text = Buffer.concat(received).toString('utf8');
      const status = Number(text.match(/^HTTP\/1\.1 (\d{3})/)?.[1]);
      if (!status) return reject(new Error(`no HTTP answer (${text.length} bytes received)`));
      const payload = text.slice(text.indexOf('\r\n\r\n') + 4);
      resolve({ status, json: () => JSON.parse(payload) });
    });
  });
}
