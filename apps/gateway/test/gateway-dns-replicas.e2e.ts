import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startTgiStandIn, type TgiStandIn } from '#backends/testing';
import { startGateway, waitForModel, writeModelsConfig, type RunningGateway } from '#test-support/gateway';
import { postJson } from '#test-support/http-client';

/**
 * A gateway process whose model's replicas are found in DNS by the system's resolver, as in a pod: the name here is
 * `localhost` (its address from /etc/hosts), the server a TGI STAND-IN (TGI cannot run here). How replicas come and go
 * is tested with a resolver whose answers change (replica-discovery.int.ts).
 */
describe('a gateway process discovering its replicas with the system resolver (discover: dns)', () => {
  let standIn: TgiStandIn | undefined;
  let gateway: RunningGateway | undefined;
  after(async () => {
    await gateway?.stop();
    await standIn?.close();
  });

  it('finds the address of the name, serves through it once ready, and shows it in /models', async () => {
    standIn = await startTgiStandIn({ script: { tokens: [' found', ' by', ' name'] } });
    const port = new URL(standIn.url).port;
    gateway = await startGateway(
      writeModelsConfig(`gpus: []
models:
  - id: qwen2
    quantization: gptq-int4
    replicas: { discover: dns, host: localhost, port: ${port}, type: tgi, resolve_every_ms: 500 }
`),
    );
    const view = await waitForModel(gateway.url, 'qwen2', (v) => v.state === 'ready');
    assert.deepEqual(
      view.replicas.map((r: any) => [r.backend.type, r.backend.address, r.state]),
      [['tgi', `http://127.0.0.1:${port}`, 'ready']],
    );
    const answer = await postJson(`${gateway.url}/v1/generate`, { model_id: 'qwen2', inputs: 'hello' });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json().generated_text, ' found by name');
    assert.equal(standIn.received.length, 1);
  });
});
