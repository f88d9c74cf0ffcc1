import { StringDecoder } from 'node:string_decoder';

/** Receives the `data` of each complete server-sent event, and the stream's clean end. */
export interface SseSink {
  onSseData(data: string): void;
  /**
   * The value of an `error` field: llama-server (builds before its errors became `data: {"error": ...}`) reports a
   * failure inside a stream as `error: {json}`, a field the SSE standard says to ignore, and then ends the stream.
   */
  onSseError?(value: string): void;
  onSseEnd(): void;
}

const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;

/**
 * An incremental parser for `text/event-stream` (WHATWG HTML §9.2.6) fed with the chunks of a node Readable.
 * Chunks may split anything: a UTF-8 sequence, a CRLF pair, a line, an event. Only `data` fields matter to us, and
 * llama-server's own `error` field: `event`, `id`, `retry` and comment lines (`:` keep-alives) are skipped. An event left unfinished at the end
 * of the stream is dropped, as the spec says.
 */
export class SseParser {
  private readonly decoder = new StringDecoder('utf8');
  private partialLine = '';
  private data = '';
  private hasData = false;
  /** The previous chunk ended in CR: a LF at the start of the next one belongs to that line break. */
  private skipLeadingLf = false;
  private atStreamStart = true;

  constructor(private readonly sink: SseSink) {}

  push(chunk: Buffer | string): void {
    let text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    if (text.length === 0) return;
    if (this.atStreamStart) {
      this.atStreamStart = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let buffer = text;
    let start = 0;
    if (this.partialLine.length > 0) {
      buffer = this.partialLine + text; // a line ending in CR is never partial, so no LF to skip here
    } else if (this.skipLeadingLf && text.charCodeAt(0) === LF) {
      start = 1;
    }
    this.skipLeadingLf = false;
    if (buffer.indexOf('\r', start) === -1) {
      // Line feeds only, as TGI, our engine and OpenAI servers write: each line found by indexOf, not char by char.
      for (let lf = buffer.indexOf('\n', start); lf !== -1; lf = buffer.indexOf('\n', start)) {
        this.line(buffer.slice(start, lf));
        start = lf + 1;
      }
      this.partialLine = start < buffer.length ? buffer.slice(start) : '';
      return;
    }
    for (let i = start; i < buffer.length; i++) {
      const c = buffer.charCodeAt(i);
      if (c !== LF && c !== CR) continue;
      this.line(buffer.slice(start, i));
      if (c === CR) {
        if (i + 1 === buffer.length) this.skipLeadingLf = true;
        else if (buffer.charCodeAt(i + 1) === LF) i++;
      }
      start = i + 1;
    }
    this.partialLine = start < buffer.length ? buffer.slice(start) : '';
  }

  /** The stream ended cleanly: an event left unfinished is dropped. */
  end(): void {
    this.sink.onSseEnd();
  }

  private line(line: string): void {
    if (line.length === 0) return this.dispatch();
    if (line.charCodeAt(0) === COLON) return; // comment: TGI's and our engine's keep-alive
    if (line.startsWith('data:')) return this.addData(line.charCodeAt(5) === SPACE ? line.slice(6) : line.slice(5));
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    if (field !== 'data' && field !== 'error') return;
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === SPACE) value = value.slice(1);
    if (field === 'error') return this.sink.onSseError?.(value);
    this.addData(value);
  }

  private addData(value: string): void {
    this.data = this.hasData ? `${this.data}\n${value}` : value;
    this.hasData = true;
  }

  private dispatch(): void {
    if (!this.hasData) return;
    const data = this.data;
    this.data = '';
    this.hasData = false;
    this.sink.onSseData(data);
  }
}
