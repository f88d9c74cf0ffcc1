import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResponseHeaders } from './response-headers.js';

/** A raw list as undici's client gives it: name, value, ... as Buffers, names in the case the backend wrote them. */
const raw = (...pairs: string[]) => pairs.map((part) => Buffer.from(part, 'latin1'));

describe('ResponseHeaders', () => {
  it('finds a header whatever the case the backend wrote its name in', () => {
    const headers = new ResponseHeaders(
      raw('Content-Type', 'application/json', 'X-Prompt-Tokens', '12', 'x-generated-tokens', '64'),
    );
    assert.equal(headers.get('x-prompt-tokens'), '12');
    assert.equal(headers.get('x-generated-tokens'), '64');
    assert.equal(headers.get('content-type'), 'application/json');
  });

  it('gives the first of repeated values, and undefined for a header that is not there', () => {
    const headers = new ResponseHeaders(raw('Retry-After', '5', 'retry-after', '9'));
    assert.equal(headers.get('retry-after'), '5');
    assert.equal(headers.get('x-prompt-tokens'), undefined);
    assert.equal(new ResponseHeaders([]).get('retry-after'), undefined);
  });

  it('does not take a name that only starts or ends like the one asked for', () => {
    const headers = new ResponseHeaders(raw('x-prompt-tokens-total', '1', 'prompt-tokens', '2'));
    assert.equal(headers.get('x-prompt-tokens'), undefined);
  });

  it('decodes values as latin1, as undici does, and reads a list made of strings', () => {
    assert.equal(new ResponseHeaders([Buffer.from([0x61, 0xe9]), Buffer.from([0xe9])]).get('aé'), 'é');
    assert.equal(new ResponseHeaders(['Retry-After', '3']).get('retry-after'), '3');
  });
});
