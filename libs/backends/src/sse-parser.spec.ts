import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SseParser } from './sse-parser.js';

function parseChunks(chunks: Array<Buffer | string>): string[] {
  const events: string[] = [];
  const parser = new SseParser({ onSseData: (data) => events.push(data), onSseEnd: () => undefined });
  for (const chunk of chunks) parser.push(chunk);
  return events;
}

/** Every framing the parser must understand, in one stream: TGI's, spaced data, CRLF, CR, comments, multi-line, UTF-8. */
const STREAM =
  '\uFEFF:keep-alive\n\n' +
  'data:{"index":1,"token":{"text":"héllo"}}\n\n' +
  'data: {"index":2,"token":{"text":"世界 🎉"}}\r\n\r\n' +
  'event: message\nid: 7\nretry: 100\ndata:{"index":3,\ndata:"multi":"line"}\n\n' +
  ': comment between events\r\n' +
  'data:{"index":4}\r\rdata:{"index":5}\r\n\n' +
  'data\n\n' +
  'data:{"unfinished":true}\n';

const EXPECTED = [
  '{"index":1,"token":{"text":"héllo"}}',
  '{"index":2,"token":{"text":"世界 🎉"}}',
  '{"index":3,\n"multi":"line"}',
  '{"index":4}',
  '{"index":5}',
  '',
];

describe('SseParser', () => {
  it('parses every SSE framing in one chunk', () => {
    assert.deepEqual(parseChunks([STREAM]), EXPECTED);
  });

  it('parses identically when the bytes are split at every boundary', () => {
    const bytes = Buffer.from(STREAM, 'utf8');
    for (let cut = 0; cut <= bytes.length; cut++) {
      assert.deepEqual(parseChunks([bytes.subarray(0, cut), bytes.subarray(cut)]), EXPECTED, `split at byte ${cut}`);
    }
  });

  it('parses identically when fed one byte at a time', () => {
    const bytes = Buffer.from(STREAM, 'utf8');
    assert.deepEqual(parseChunks([...bytes].map((b) => Buffer.from([b]))), EXPECTED);
  });

  it('parses identically when split at every pair of boundaries', () => {
    const bytes = Buffer.from(STREAM, 'utf8');
    for (let a = 0; a <= bytes.length; a += 3) {
      for (let b = a; b <= bytes.length; b += 5) {
        assert.deepEqual(
          parseChunks([bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)]),
          EXPECTED,
          `split at ${a}, ${b}`,
        );
      }
    }
  });

  it('parses a stream of line feeds only (how backends write) the same way, however it is split', () => {
    const stream =
      ':keep-alive\n\ndata:{"index":1}\n\ndata: {"index":2}\n\ndata\n\ndata:\n\ndata:  two spaces\n\n' +
      'event: x\ndata:a\ndata:b\n\nerror: {"message":"late"}\ndata:{"text":"é🎉"}\n\ndata:{"unfinished":true}\n';
    const expected = ['{"index":1}', '{"index":2}', '', '', ' two spaces', 'a\nb', '{"text":"é🎉"}'];
    const bytes = Buffer.from(stream, 'utf8');
    for (let cut = 0; cut <= bytes.length; cut++) {
      assert.deepEqual(parseChunks([bytes.subarray(0, cut), bytes.subarray(cut)]), expected, `split at byte ${cut}`);
    }
    assert.deepEqual(parseChunks([...bytes].map((b) => Buffer.from([b]))), expected);
  });

  it('drops an event the stream never finished', () => {
    assert.deepEqual(parseChunks(['data:{"a":1}\n\ndata:{"b":2}']), ['{"a":1}']);
  });

  it("hands llama-server's `error` field to onSseError, apart from the data events", () => {
    const events: string[] = [];
    const errors: string[] = [];
    const parser = new SseParser({
      onSseData: (data) => events.push(data),
      onSseError: (value) => errors.push(value),
      onSseEnd: () => undefined,
    });
    parser.push('data: {"index":1}\n\nerror: {"code":500,"message":"CUDA error","type":"server_error"}\n\n');
    assert.deepEqual(events, ['{"index":1}']);
    assert.deepEqual(errors, ['{"code":500,"message":"CUDA error","type":"server_error"}']);
  });
});
