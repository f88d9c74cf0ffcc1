import type { BackendCall, ResponseReader } from './backend-call.js';
import { GatewayError } from './gateway-error.js';
import type { ResponseHeaders } from './response-headers.js';

/** A whole generation in one body (with details or logprobs, every token's): bounded, far above any real one. */
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

/**
 * What the readers of a backend's one answer (`oneAnswer` calls) share: the body kept whole up to a bound, the
 * answer's headers for the token counts that TGI and our engine send there, and the answer's arrival time. A subclass
 * reads the complete body in `read()`.
 */
export abstract class WholeAnswerReader implements ResponseReader {
  readonly answersAtEnd = true;
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  private headers: ResponseHeaders | undefined;

  constructor(
    protected readonly call: BackendCall,
    /** The backend's route, as the errors name it. */
    protected readonly route: string,
  ) {}

  begin(headers: ResponseHeaders): void {
    this.headers = headers;
  }

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.bytes <= MAX_ANSWER_BYTES) this.chunks.push(chunk);
    else
      this.call.fail(
        new GatewayError('upstream', `backend answered ${this.route} with over ${MAX_ANSWER_BYTES} bytes`),
      );
  }

  end(): void {
    const arrivedAt = performance.now();
    const { chunks } = this;
    this.read((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8'), arrivedAt);
  }

  /** The whole body, with the call unsettled: settle it. */
  protected abstract read(text: string, arrivedAt: number): void;

  /** A token count from the answer's headers (`x-prompt-tokens`, `x-generated-tokens`), if it has a valid one. */
  protected countHeader(name: string): number | undefined {
    const value = this.headers?.get(name);
    if (value === undefined || !/^\d+$/.test(value)) return undefined;
    return Number(value);
  }

  /** The call's error for an answer that is not what the route answers. */
  protected refusal(what: string, text: string): GatewayError {
    return new GatewayError('upstream', `backend answered ${this.route} with ${what}: ${text.slice(0, 200)}`);
  }
}
