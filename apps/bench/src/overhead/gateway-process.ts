import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildService, GATEWAY_MAIN } from './child-service.js';

/**
 * A gateway (the built apps/gateway) in front of one TGI backend, for measuring the gateway itself: one model,
 * `model_id`, with caps high enough that its queue never refuses or holds a request in these runs — the benchmark
 * measures the request path, not the admission policy.
 */
function overheadModelsYaml(backendUrl: string, modelId: string, maxNewTokens: number): string {
  return `# Written by bench overhead: one model on a TGI backend, caps out of the way.
gpus: []
readiness: { required: all }
defaults:
  max_concurrent: 100000
  max_queued: 100000
  max_new_tokens: ${Math.max(512, maxNewTokens)}
  default_max_new_tokens: ${maxNewTokens}
  timeouts: { connect_ms: 5000, first_byte_ms: 60000, inter_token_ms: 60000, total_ms: 120000, startup_ms: 30000 }
models:
  - id: ${modelId}
    quantization: none
    vram_budget_gb: 0
    gpu: null
    backend: { type: tgi, url: ${backendUrl} }
`;
}

export async function startGatewayProcess(
  backendUrl: string,
  modelId: string,
  maxNewTokens: number,
  nodeArgs: readonly string[] = [],
): Promise<{ url: string; service: ChildService; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-gateway-'));
  const config = join(dir, 'models.yaml');
  writeFileSync(config, overheadModelsYaml(backendUrl, modelId, maxNewTokens));
  const gateway = ChildService.start(
    'gateway',
    GATEWAY_MAIN,
    [],
    {
      PORT: '0',
      HOST: '127.0.0.1',
      MODELS_CONFIG: config,
      HEALTH_POLL_MS: '1000',
    },
    nodeArgs,
  );
  const stop = async () => {
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [, url] = await gateway.waitFor(/listening on (http:\/\/\S+)/, 30_000);
    await gateway.waitFor(/ready: all required models serve/, 30_000);
    return { url: url!.replace('[::1]', '127.0.0.1').replace(/\/$/, ''), service: gateway, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
