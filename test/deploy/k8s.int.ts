import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import YAML from 'yaml';
import { parseApiKeys } from '#gateway/auth/api-keys-file';
import { listenHost, readGatewayConfig } from '#gateway/gateway-config';
import { loadRegistryConfig, parseRegistryConfig } from '#model-registry';
import { flag, gatewayEnvKeys, REPO_ROOT, run, toolSkip, urlHostPort } from './deploy-support.js';

const skip =
  toolSkip(
    ['kubectl', 'version', '--client'],
    'kubectl with its built-in kustomize; Debian: apt-get install kubernetes-client',
  ) || toolSkip(['/usr/bin/python3', '-c', 'import kubernetes'], 'apt-get install python3-kubernetes');

let objects: any[] = [];
let rendered = '';
const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const container = (deployment: any) => deployment.spec.template.spec.containers[0];
const envOf = (c: any): Record<string, string> =>
  Object.fromEntries((c.env ?? []).filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));
const portNamed = (c: any, name: string | number) =>
  typeof name === 'number' ? name : c.ports.find((p: any) => p.name === name)?.containerPort;

describe('deploy/k8s (kustomize)', { skip }, () => {
  before(() => {
    const built = run('kubectl', ['kustomize', 'deploy/k8s']);
    assert.equal(built.status, 0, built.stderr);
    rendered = built.stdout;
    objects = YAML.parseAllDocuments(rendered).map((d) => d.toJS());
  });

  it('builds, and every object matches the Kubernetes API schema (kinds, fields, types, required fields)', () => {
    const checked = run('/usr/bin/python3', ['scripts/validate_k8s.py'], { input: rendered });
    assert.equal(checked.status, 0, checked.stdout + checked.stderr);
    assert.match(checked.stdout, new RegExp(`${objects.length} objects, 0 problems`));
    assert.ok(objects.every((o) => o.kind === 'Namespace' || o.metadata.namespace === 'sluice'));
  });

  it('runs 2+ gateway replicas with Terminus probes on the port the gateway listens on, and the registry from a ConfigMap', () => {
    const gateway = find('Deployment', 'gateway');
    assert.ok(gateway.spec.replicas >= 2);
    const c = container(gateway);
    const env = envOf(c);
    const known = gatewayEnvKeys();
    for (const key of Object.keys(env)) assert.ok(known.has(key), `the gateway does not read ${key}`);
    const config = readGatewayConfig(env);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(portNamed(c, 'http'), config.port);
    for (const [probe, path] of [
      ['livenessProbe', '/health/live'],
      ['readinessProbe', '/health/ready'],
      ['startupProbe', '/health/live'],
    ] as const) {
      assert.equal(c[probe].httpGet.path, path, probe);
      assert.equal(portNamed(c, c[probe].httpGet.port), config.port, `${probe} asks the gateway's port`);
    }
    assert.ok(
      gateway.spec.template.spec.terminationGracePeriodSeconds * 1000 > config.shutdownGraceMs,
      'the kubelet waits out SHUTDOWN_GRACE_MS',
    );
    const service = find('Service', 'gateway');
    assert.equal(portNamed(c, service.spec.ports[0].targetPort), config.port);

    const mount = c.volumeMounts.find((m: any) => config.modelsConfigPath.startsWith(`${m.mountPath}/`));
    assert.ok(mount, `MODELS_CONFIG ${config.modelsConfigPath} lies in a mounted volume`);
    const volume = gateway.spec.template.spec.volumes.find((v: any) => v.name === mount.name);
    const configMap = find('ConfigMap', volume.configMap.name);
    assert.ok(configMap, `the ConfigMap ${volume.configMap.name} exists (kustomize's hashed name)`);
    const file = config.modelsConfigPath.slice(mount.mountPath.length + 1);
    const registry = parseRegistryConfig(configMap.data[file], `ConfigMap ${configMap.metadata.name}/${file}`);
    assert.ok(registry.models.length >= 2);

    const redis = urlHostPort(env.REDIS_URL!.replace(/^redis:/, 'http:'));
    assert.equal(
      find('Service', redis.host).spec.ports[0].port,
      redis.port,
      'REDIS_URL names the redis Service and port',
    );
  });

  it('the gateway has API keys (a keys file from a Secret, and Redis) and may take METRICS_TOKEN from a Secret', () => {
    const gateway = find('Deployment', 'gateway');
    const c = container(gateway);
    const config = readGatewayConfig(envOf(c));
    assert.equal(listenHost(config, true), '0.0.0.0');
    assert.ok(config.apiKeysRedis, 'keys added or revoked with the CLI reach every replica');
    const keysFile = config.apiKeysFile!;
    const mount = c.volumeMounts.find((m: any) => keysFile.startsWith(`${m.mountPath}/`));
    assert.ok(mount, `API_KEYS_FILE ${keysFile} lies in a mounted volume`);
    const volume = gateway.spec.template.spec.volumes.find((v: any) => v.name === mount.name);
    const secret = find('Secret', volume.secret.secretName);
    assert.ok(secret, `the Secret ${volume.secret.secretName} exists (kustomize's hashed name)`);
    const item = volume.secret.items.find((i: any) => i.path === keysFile.slice(mount.mountPath.length + 1));
    const text = Buffer.from(secret.data[item.key], 'base64').toString('utf8');
    assert.deepEqual(parseApiKeys(text, `Secret ${secret.metadata.name}`), [], 'ships with no key: hashes are added');
    const token = c.env.find((e: any) => e.name === 'METRICS_TOKEN');
    assert.deepEqual(token.valueFrom.secretKeyRef, { name: 'sluice-metrics-token', key: 'token', optional: true });
  });

  it('serves each model from its own TGI Deployment with a GPU, behind the Service the registry names', () => {
    const gateway = find('Deployment', 'gateway');
    const c = container(gateway);
    const config = readGatewayConfig(envOf(c));
    const volume = gateway.spec.template.spec.volumes.find((v: any) => v.configMap);
    const configMap = find('ConfigMap', volume.configMap.name);
    const registry = parseRegistryConfig(Object.values(configMap.data)[0] as string, config.modelsConfigPath);
    const served = new Set<string>();
    for (const model of registry.models) {
      assert.equal(model.backend.type, 'tgi');
      const { host, port } = urlHostPort((model.backend as { url: string }).url);
      const service = find('Service', host);
      assert.ok(service, `${model.id}: Service ${host}`);
      const servicePort = service.spec.ports.find((p: any) => p.port === port);
      assert.ok(servicePort, `${host} exposes port ${port}`);
      const deployment = objects.find(
        (o) =>
          o.kind === 'Deployment' &&
          Object.entries(service.spec.selector).every(([k, v]) => o.spec.template.metadata.labels[k] === v),
      );
      assert.ok(deployment, `${host} selects a Deployment`);
      const tgi = container(deployment);
      assert.equal(
        Number(flag(tgi.args, 'port')),
        portNamed(tgi, servicePort.targetPort),
        `${host}'s targetPort is the port TGI binds`,
      );
      assert.equal(flag(tgi.args, 'quantize'), 'gptq');
      assert.ok(model.aliases.includes(flag(tgi.args, 'model-id')!));
      assert.equal(tgi.resources.limits['nvidia.com/gpu'], '1');
      assert.equal(tgi.readinessProbe.httpGet.path, '/health');
      if (model.discovery) {
        // Replicas found in DNS: the name is a headless Service's (an A record per ready pod) and it has several pods.
        assert.equal(model.discovery.host, host);
        assert.equal(model.discovery.port, port);
        assert.equal(service.spec.clusterIP, 'None', `${host} is headless: its name gives every pod`);
        assert.ok(deployment.spec.replicas >= 2, `${deployment.metadata.name} runs several pods`);
        assert.ok(
          !deployment.spec.template.spec.volumes.some((v: any) => v.persistentVolumeClaim),
          'no ReadWriteOnce claim shared by pods that may sit on different nodes',
        );
      }
      served.add(deployment.metadata.name);
    }
    assert.equal(served.size, registry.models.length, 'one TGI workload per model');
    assert.ok(
      registry.models.some((model) => model.discovery),
      'a model whose pods are found through a headless Service',
    );

    // The same models as the one-box GPU deployment: a client sees the same ids, aliases and budgets.
    const oneBox = loadRegistryConfig(`${REPO_ROOT}config/models.gpu.yaml`);
    const summary = (r: typeof registry) =>
      r.models.map((m) => ({ id: m.id, aliases: m.aliases, quantization: m.quantization, vram: m.vramBudgetGb }));
    assert.deepEqual(summary(registry), summary(oneBox));
  });
});
