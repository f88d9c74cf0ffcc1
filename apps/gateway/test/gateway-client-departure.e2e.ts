import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { slowTestModel } from '#test-support/engine';
import { slowEnginesConfig, startGateway, waitForModel, type RunningGateway } from '#test-support/gateway';
import { openStream } from '#test-support/http-client';

/** A real engine on a model slow enough (random 30M weights) that a client can leave mid-generation. */
const slowConfig = () =>
  slowEnginesConfig(
    { llama3: slowTestModel() },
    { defaultMaxNewTokens: 32, timeouts: { first_byte_ms: 20000, inter_token_ms: 10000, total_ms: 60000 } },
  );

const long = { model_id: 'llama3', inputs: 'The', parameters: { max_new_tokens: 400 } };
const DEPARTURE = /^.*LOG.*: POST \/v1\/generate: the client left before its answer was complete \(cancelled\)/;

describe('a client that leaves before its answer is complete', () => {
  let gateway: RunningGateway;
  before(async () => {
    gateway = await startGateway(slowConfig());
  });
  after(() => gateway?.stop());

  /** The lines logged after `from`, once the departure is logged and the engine has let the generation go. */
  async function linesAfterDeparture(from: number): Promise<string[]> {
    const deadline = Date.now() + 5000;
    while (!gateway.process.output.slice(from).some((line) => DEPARTURE.test(line)) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    await waitForModel(gateway.url, 'llama3', (view) => view.in_flight === 0, 5000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    return gateway.process.output.slice(from);
  }

  function assertOneInfoLine(lines: string[]): void {
    assert.equal(lines.filter((line) => DEPARTURE.test(line)).length, 1, lines.join('\n'));
    assert.deepEqual(
      lines.filter((line) => /ERROR|WARN|\n\s+at /.test(line)),
      [],
      lines.join('\n'),
    );
  }

  it('non-streamed: one info line "cancelled", no error', async () => {
    const from = gateway.process.output.length;
    const req = http.request(`${gateway.url}/v1/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    req.on('error', () => undefined); // we cut it ourselves
    req.end(JSON.stringify(long));
    await waitForModel(gateway.url, 'llama3', (view) => view.in_flight === 1, 5000);
    req.destroy();
    assertOneInfoLine(await linesAfterDeparture(from));
  });

  it('streamed: one info line "cancelled", no error', async () => {
    const from = gateway.process.output.length;
    const stream = openStream(`${gateway.url}/v1/generate`, { ...long, stream: true }, () => stream.abort());
    await stream.done;
    assertOneInfoLine(await linesAfterDeparture(from));
  });
});
