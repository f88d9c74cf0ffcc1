import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '#test-support/engine';
import { startGateway, writeModelsConfig } from '#test-support/gateway';
import { ManagedProcess } from '#test-support/processes';

/** A backend nobody listens on: these gateways start no engine, and only their start-up is looked at. */
const REGISTRY = writeModelsConfig(`gpus: []
readiness: { required: all }
models:
  - id: qwen2
    quantization: gptq-int4
    backend: { type: tgi, url: "http://127.0.0.1:9" }
`);

/**
 * The embedded default stays safe as shipped: without keys the gateway listens on 127.0.0.1 only and says so; asked
 * for another interface without keys it refuses to start with the fix in its message, unless AUTH=off.
 */
describe('where the gateway process listens, by its keys', () => {
  it('without keys and without HOST: 127.0.0.1, and the log says only this machine can reach it', async () => {
    const gateway = await startGateway(REGISTRY, { waitReady: false, env: { HOST: '' } });
    try {
      assert.match(gateway.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(
        gateway.process.output.some((line) => /no API keys: only this machine can reach it/.test(line)),
        gateway.process.output.join('\n'),
      );
    } finally {
      await gateway.stop();
    }
  });

  it('HOST=0.0.0.0 without keys: no start, exit 2, with the settings that would fix it', async () => {
    const gateway = ManagedProcess.start(process.execPath, [`${REPO_ROOT}dist/apps/gateway/src/main.js`], {
      MODELS_CONFIG: REGISTRY,
      PORT: '0',
      HOST: '0.0.0.0',
      STATSD_HOST: 'off',
    });
    const { code } = await gateway.exited;
    assert.equal(code, 2);
    const said = gateway.output.join('\n');
    assert.match(said, /HOST=0\.0\.0\.0 without API keys/);
    assert.match(said, /API_KEYS_FILE/);
    assert.match(said, /AUTH=off/);
  });

  it('AUTH=off: every interface, open, and the log says so', async () => {
    const gateway = await startGateway(REGISTRY, { waitReady: false, env: { HOST: '', AUTH: 'off' } });
    try {
      assert.ok(gateway.process.output.some((line) => /no API keys \(AUTH=off\)/.test(line)));
      assert.ok(
        gateway.process.output.some((line) => /listening on http:\/\/(0\.0\.0\.0|\[::\]|127\.0\.0\.1)/.test(line)),
      );
    } finally {
      await gateway.stop();
    }
  });
});
