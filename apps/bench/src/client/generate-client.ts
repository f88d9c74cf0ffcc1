import http from 'node:http';
import type { RequestSpec } from '../load/workload.js';
import { roundMs, type RequestRecord } from '../metrics/request-record.js';
import { SseEvents } from './sse-events.js';
import {
  answerOf,
  errorOf,
  errorTypeForStatus,
  parseObject,
  requestBody,
  requestPath,
  streamReader,
  type Target,
} from './target-api.js';

export interface GenerateClientOptions {
  /** performance.now() at the run's origin: every recorded time is relative to it. */
  originMs: number;
  /** A request still unanswered after this long is abandoned as `client_timeout`. */
  timeoutMs: number;
  /** Sweep step stamped on records. */
  step?: number;
}

interface Pending {
  req: http.ClientRequest;
  deadline: number;
  timedOut: boolean;
}

/** How a request ends, once: whichever of its answer, its error or its client timeout comes first. */
interface Ending {
  ok(): void;
  fail(errorType: string, error: string): void;
}

/** Enough of an error body to find its error_type. */
const MAX_ERROR_BODY = 16 * 1024;

/**
 * Sends generation requests over node:http with one keep-alive agent (no fetch, no web streams: the client must
 * cost less than what it measures) and records each one's timeline as a RequestRecord. Client timeouts are
 * checked by one sweeping timer rather than a timer per request.
 */
export class GenerateClient {
  private readonly agent = new http.Agent({
    keepAlive: true,
    maxSockets: Infinity,
    keepAliveMsecs: 1000,
    scheduling: 'lifo',
  });
  private readonly bodies = new Map<string, { path: string; body: string; length: string }>();
  private readonly pending = new Set<Pending>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly base: URL;

  constructor(
    private readonly target: Target,
    private readonly options: GenerateClientOptions,
  ) {
    this.base = new URL(target.url);
    this.sweeper = setInterval(() => this.expire(), Math.min(100, Math.max(5, options.timeoutMs / 10))).unref();
  }

  get inFlight(): number {
    return this.pending.size;
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const p of this.pending) p.req.destroy();
    this.agent.destroy();
  }

  /** The record of an arrival that was never sent. */
  dropped(id: number, spec: RequestSpec, intendedMs: number, why: string, warmup: boolean): RequestRecord {
    return { ...this.blank(id, spec, intendedMs, warmup), ok: false, error_type: 'dropped', error: why };
  }

  send(id: number, spec: RequestSpec, intendedMs: number, warmup = false): Promise<RequestRecord> {
    const { path, body, length } = this.payload(spec);
    const now = () => roundMs(performance.now() - this.options.originMs);
    const record = this.blank(id, spec, intendedMs, warmup);
    return new Promise<RequestRecord>((resolve) => {
      let settled = false;
      const entry: Pending = {
        req: undefined as unknown as http.ClientRequest,
        deadline: performance.now() + this.options.timeoutMs,
        timedOut: false,
      };
      const settle = (failure?: { errorType: string; error: string }) => {
        if (settled) return;
        settled = true;
        this.pending.delete(entry);
        if (failure && entry.timedOut) {
          failure = { errorType: 'client_timeout', error: `no complete answer within ${this.options.timeoutMs} ms` };
        }
        record.end_ms = now();
        record.ok = failure === undefined;
        record.error_type = failure?.errorType ?? null;
        record.error = failure?.error ?? null;
        resolve(record);
      };
      const finish: Ending = { ok: () => settle(), fail: (errorType, error) => settle({ errorType, error }) };
      record.sent_ms = now();
      const req = http.request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port,
          path,
          method: 'POST',
          agent: this.agent,
          headers: {
            'content-type': 'application/json',
            'content-length': length,
            accept: spec.stream ? 'text/event-stream' : 'application/json',
            ...(this.target.apiKey === undefined ? {} : { authorization: `Bearer ${this.target.apiKey}` }),
          },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          record.status = status;
          const isSse = String(res.headers['content-type'] ?? '').startsWith('text/event-stream');
          if (status === 200 && isSse) return this.readStream(res, record, now, finish);
          const chunks: Buffer[] = [];
          let bytes = 0;
          res.on('data', (chunk: Buffer) => {
            if (status !== 200 && bytes >= MAX_ERROR_BODY) return;
            chunks.push(chunk);
            bytes += chunk.length;
          });
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const json = parseObject(text);
            if (status !== 200) {
              const error = json === null ? null : errorOf(json, errorTypeForStatus(status));
              return error
                ? finish.fail(error.type, error.message)
                : finish.fail(errorTypeForStatus(status), `HTTP ${status}: ${text.slice(0, 200)}`);
            }
            if (json === null) return finish.fail('protocol', `answer is not a JSON object: ${text.slice(0, 200)}`);
            const answer = answerOf(this.target.api, json, res.headers);
            if (answer.kind === 'protocol') return finish.fail('protocol', answer.message);
            record.usage = answer.usage;
            record.server = answer.server;
            finish.ok();
          });
          res.on('error', (error) => finish.fail('network', error.message));
          res.on('close', () => finish.fail('network', 'connection closed before the answer was complete'));
        },
      );
      entry.req = req;
      this.pending.add(entry);
      req.on('error', (error: NodeJS.ErrnoException) => {
        record.status ??= 0;
        finish.fail('network', error.code ? `${error.code}: ${error.message}` : error.message);
      });
      req.end(body);
    });
  }

  private readStream(res: http.IncomingMessage, record: RequestRecord, now: () => number, finish: Ending): void {
    const events = new SseEvents();
    const reader = streamReader(this.target.api);
    let done = false;
    const stop = (end: () => void) => {
      done = true;
      end();
      res.resume();
    };
    res.on('data', (chunk: Buffer) => {
      if (done) return;
      const at = now();
      for (const data of events.push(chunk)) {
        const step = reader.read(data);
        if (step.kind === 'protocol') return stop(() => finish.fail('protocol', step.message));
        if (step.kind === 'error') return stop(() => finish.fail(step.type, step.message));
        if (step.kind === 'token' || (step.kind === 'end' && step.token)) {
          if (record.first_token_ms === null) record.first_token_ms = at;
          record.token_ms.push(at);
        }
        if (step.kind === 'end') {
          record.usage = step.usage;
          record.server = step.server;
          return stop(() => finish.ok());
        }
      }
    });
    const ended = () => finish.fail('protocol', 'stream ended before its final event');
    res.on('end', ended);
    res.on('close', () => finish.fail('network', 'connection closed mid-stream'));
    res.on('error', (error) => finish.fail('network', error.message));
  }

  private expire(): void {
    const t = performance.now();
    for (const p of this.pending) {
      if (p.deadline <= t && !p.timedOut) {
        p.timedOut = true;
        p.req.destroy(new Error('client timeout'));
      }
    }
  }

  private payload(spec: RequestSpec) {
    const key = `${spec.model}\u0000${spec.inputs}\u0000${spec.maxNewTokens}\u0000${spec.temperature}\u0000${spec.topP}\u0000${spec.stream}\u0000${spec.scenario}`;
    let entry = this.bodies.get(key);
    if (!entry) {
      const body = requestBody(this.target, spec);
      entry = {
        path: this.base.pathname.replace(/\/+$/, '') + requestPath(this.target.api, spec.stream),
        body,
        length: String(Buffer.byteLength(body)),
      };
      this.bodies.set(key, entry);
    }
    return entry;
  }

  private blank(id: number, spec: RequestSpec, intendedMs: number, warmup: boolean): RequestRecord {
    return {
      id,
      ...(this.options.step !== undefined ? { step: this.options.step } : {}),
      model: spec.model,
      scenario: spec.scenario,
      lang: spec.lang,
      stream: spec.stream,
      max_new_tokens: spec.maxNewTokens,
      intended_ms: roundMs(intendedMs),
      sent_ms: null,
      first_token_ms: null,
      token_ms: [],
      end_ms: null,
      status: null,
      ok: false,
      error_type: null,
      error: null,
      usage: null,
      server: null,
      warmup,
    };
  }
}
