import { StringDecoder } from 'node:string_decoder';

/**
 * Splits a `text/event-stream` body, fed chunk by chunk, into the `data` of each complete event. The benchmark
 * has its own (small) parser on purpose: a load generator that shared the gateway's parser would share its bugs.
 * CRLF and CR line ends are accepted; comment lines (`:` keep-alives) and other fields are skipped.
 */
export class SseEvents {
  private readonly decoder = new StringDecoder('utf8');
  private buffer = '';

  /** Every event completed by this chunk, as its joined `data` lines. */
  push(chunk: Buffer): string[] {
    let text = this.decoder.write(chunk);
    if (text.includes('\r')) text = text.replace(/\r\n?/g, '\n');
    this.buffer += text;
    const events: string[] = [];
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const frame = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const data = dataOf(frame);
      if (data !== null) events.push(data);
    }
    return events;
  }
}

function dataOf(frame: string): string | null {
  let data: string | null = null;
  for (const line of frame.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
    data = data === null ? value : `${data}\n${value}`;
  }
  return data;
}
