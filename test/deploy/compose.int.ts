import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { before, describe, it } from 'node:test';
import YAML from 'yaml';
import { parseEngineConfig } from '#engine/config';
import { listenHost, readGatewayConfig } from '#gateway/gateway-config';
import { loadRegistryConfig, replicasOf, type RegistryConfig } from '#model-registry';
import { flag, gatewayEnvKeys, REPO_ROOT, run, toolSkip, urlHostPort } from './deploy-support.js';

interface ComposeService {
  profiles?: string[];
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  /** Objects, or `host_ip:published:target/protocol` strings where a host address is given (compose v1). */
  ports?: Array<{ published: number; target: number; protocol?: string; host_ip?: string } | string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  /** `source:target[:mode]` from compose v1, `{type, source, target}` from compose v2. */
  volumes?: Array<string | { type: string; source: string; target: string }>;
  deploy?: {
    resources?: {
      reservations?: { devices?: Array<{ driver: string; capabilities: string[]; device_ids?: string[] }> };
    };
  };
}

const skip = toolSkip(
  ['docker-compose', 'version'],
  "apt-get install docker-compose: Debian's compose v1 validates without a Docker engine",
);
let services: Record<string, ComposeService> = {};

/** The services `docker compose --profile <profile> up` starts: those without a profile and those in it. */
function inProfile(profile: string): Record<string, ComposeService> {
  return Object.fromEntries(Object.entries(services).filter(([, s]) => !s.profiles || s.profiles.includes(profile)));
}

/** The one service in a profile that runs the gateway (its command is the image's default, dist/apps/gateway). */
function gatewayOf(profile: string): [string, ComposeService] {
  const gateways = Object.entries(inProfile(profile)).filter(([, s]) => s.environment?.MODELS_CONFIG !== undefined);
  assert.equal(gateways.length, 1, `one gateway in profile ${profile}, found ${gateways.map(([n]) => n).join(', ')}`);
  return gateways[0]!;
}

interface PublishedPort {
  hostIp: string;
  published: number;
  target: number;
  protocol: string;
}

function publishedPorts(service: ComposeService): PublishedPort[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port !== 'string')
      return {
        hostIp: port.host_ip ?? '',
        published: port.published,
        target: port.target,
        protocol: port.protocol ?? 'tcp',
      };
    const [, hostIp, published, target, protocol] = port.match(/^(?:(.*):)?(\d+):(\d+)(?:\/(\w+))?$/) ?? [];
    assert.ok(target, `a port mapping compose writes: ${port}`);
    return { hostIp: hostIp ?? '', published: Number(published), target: Number(target), protocol: protocol ?? 'tcp' };
  });
}

function healthUrl(service: ComposeService): URL {
  const test = service.healthcheck?.test ?? [];
  const url = test.join(' ').match(/https?:\/\/[^'"\s)]+/)?.[0];
  assert.ok(url, `a health check that asks a URL: ${JSON.stringify(test)}`);
  return new URL(url);
}

/** The gateway's settings, registry and health check in one profile, checked against the code that reads them. */
function checkGateway(profile: string): { registry: RegistryConfig; name: string } {
  const [name, gateway] = gatewayOf(profile);
  const env = gateway.environment!;
  const known = gatewayEnvKeys();
  for (const key of Object.keys(env))
    assert.ok(known.has(key), `${name}: the gateway does not read ${key} (it reads ${[...known].join(', ')})`);
  const config = readGatewayConfig(env); // throws on a value the gateway would refuse at start-up
  assert.equal(
    config.host,
    '0.0.0.0',
    `${name}: HOST must be 0.0.0.0 in a container, or the published port reaches nothing`,
  );
  assert.deepEqual(
    publishedPorts(gateway).map((p) => p.target),
    [config.port],
    `${name}: publishes the port the gateway listens on`,
  );
  assert.ok(
    config.authOff || config.apiKeysFile !== undefined || config.apiKeysRedis,
    `${name}: a published port needs API keys (API_KEYS_FILE or API_KEYS_REDIS), or AUTH=off said out loud`,
  );
  assert.equal(listenHost(config, !config.authOff), '0.0.0.0');
  const health = healthUrl(gateway);
  assert.equal(health.pathname, '/health/ready');
  assert.equal(Number(health.port), config.port);
  assert.ok(
    existsSync(`${REPO_ROOT}${config.modelsConfigPath}`),
    `${name}: MODELS_CONFIG ${config.modelsConfigPath} is in the repository (and the image)`,
  );
  const registry = loadRegistryConfig(`${REPO_ROOT}${config.modelsConfigPath}`);
  assert.ok(gateway.depends_on?.redis, `${name} waits for redis`);
  return { registry, name };
}

describe('docker-compose.yml', { skip }, () => {
  before(() => {
    const resolved = run('docker-compose', ['config']);
    assert.equal(resolved.status, 0, resolved.stderr);
    services = YAML.parse(resolved.stdout).services;
  });

  it("is a valid compose file for Debian's docker-compose (schema, references, anchors)", () => {
    const check = run('docker-compose', ['config', '--quiet']);
    assert.equal(check.status, 0, check.stderr);
  });

  it('cpu profile: no TGI, and the gateway reaches each engine on the host and port the engine binds', () => {
    const cpu = inProfile('cpu');
    assert.deepEqual(
      Object.keys(cpu).filter((n) => n.startsWith('tgi-')),
      [],
      'the cpu profile starts no TGI container',
    );
    const { registry, name } = checkGateway('cpu');
    for (const model of registry.models) {
      assert.equal(
        model.backend.type,
        'tgi',
        `${model.id}: the cpu gateway reaches engines over the network (type tgi)`,
      );
      if (model.backend.type !== 'tgi') continue;
      const { host, port } = urlHostPort(model.backend.url);
      const engine = cpu[host];
      assert.ok(engine, `${model.id}: ${host} is a service of the cpu profile`);
      assert.ok(services[name]!.depends_on?.[host], `${name} depends on ${host}`);
      const [node, main, ...args] = engine.command ?? [];
      assert.equal(node, 'node');
      assert.equal(main, 'dist/apps/engine/src/main.js');
      assert.ok(existsSync(`${REPO_ROOT}${main}`), `${main} is what the build makes`);
      const engineConfig = parseEngineConfig(args, {}); // the engine's own parser: refuses unknown flags and bad values
      assert.equal(engineConfig.port, port, `${host} binds the port in ${model.backend.url}`);
      assert.equal(engineConfig.host, '0.0.0.0', `${host} listens beyond its container`);
      assert.equal(engineConfig.modelId, model.id);
      assert.match(engineConfig.modelPath, /^models\/[^/]+\.gguf$/, 'a model the image copies (models/*.gguf)');
      assert.ok(
        existsSync(`${REPO_ROOT}${engineConfig.modelPath}`),
        `${engineConfig.modelPath} ships in the repository`,
      );
      const health = healthUrl(engine);
      assert.equal(health.pathname, '/health');
      assert.equal(Number(health.port), port);
      assert.ok(
        model.maxConcurrent <= engineConfig.contexts * engineConfig.sequencesPerContext,
        `${model.id}: max_concurrent ${model.maxConcurrent} fits the engine's contexts x sequences`,
      );
    }
  });

  it('gpu profile: two GPTQ models in TGI, started one after the other with memory caps that add up on one card', () => {
    const gpu = inProfile('gpu');
    assert.deepEqual(
      Object.keys(gpu).filter((n) => n.startsWith('engine-')),
      [],
      'the gpu profile starts no local engine',
    );
    const { registry } = checkGateway('gpu');
    assert.equal(registry.gpus.length, 1);
    const card = registry.gpus[0]!;
    const tgis = registry.models.map((model) => {
      assert.equal(model.backend.type, 'tgi');
      const { host, port } = urlHostPort((model.backend as { url: string }).url);
      const tgi = gpu[host];
      assert.ok(tgi, `${model.id}: ${host} is a service of the gpu profile`);
      const args = tgi.command ?? [];
      assert.equal(Number(flag(args, 'port')), port, `${host} binds the port in the registry's URL`);
      assert.equal(flag(args, 'quantize'), 'gptq');
      assert.ok(model.aliases.includes(flag(args, 'model-id')!), `${host} serves one of ${model.id}'s aliases`);
      assert.equal(healthUrl(tgi).pathname, '/health');
      const mounts = (tgi.volumes ?? []).map((v) =>
        typeof v === 'string' ? { source: v.split(':')[0], target: v.split(':')[1] } : v,
      );
      assert.ok(
        mounts.some((v) => v.source === 'model-cache' && v.target === '/data'),
        `${host} keeps weights in the model-cache volume`,
      );
      assert.equal(
        tgi.environment?.HF_TOKEN,
        process.env.HF_TOKEN ?? '',
        'the token comes from the environment (empty when unset)',
      );
      assert.ok(
        tgi.deploy?.resources?.reservations?.devices?.some(
          (d) => d.driver === 'nvidia' && d.capabilities.includes('gpu'),
        ),
      );
      return { model, host, tgi, fraction: Number(flag(args, 'cuda-memory-fraction')) };
    });
    const first = tgis.find((t) => !tgis.some((o) => t.tgi.depends_on?.[o.host]))!;
    const second = tgis.find((t) => t !== first)!;
    assert.equal(
      second.tgi.depends_on?.[first.host]?.condition,
      'service_healthy',
      'the second TGI starts after the first is healthy',
    );
    // TGI caps the whole card's use at fraction x total (it sizes its KV cache from the card's free memory).
    assert.ok(
      Math.abs(first.fraction * card.memoryGb - first.model.vramBudgetGb) <= 0.15,
      `${first.host}: ${first.fraction} x ${card.memoryGb} GB is its budget ${first.model.vramBudgetGb} GB`,
    );
    assert.ok(
      second.fraction < 1 &&
        second.fraction * card.memoryGb >= first.model.vramBudgetGb + second.model.vramBudgetGb - 0.15,
      `${second.host}: ${second.fraction} x ${card.memoryGb} GB leaves it its budget after ${first.host}'s`,
    );
  });

  it('gpu-replicas profile: one model on two TGI replicas, each on a GPU of its own, named by the registry', () => {
    const profile = inProfile('gpu-replicas');
    const { registry } = checkGateway('gpu-replicas');
    assert.equal(registry.models.length, 1);
    const model = registry.models[0]!;
    const replicas = replicasOf(model);
    assert.equal(replicas.length, 2, 'two replicas of the model');
    const cards = replicas.map((backend) => {
      assert.equal(backend.type, 'tgi');
      const { host, port } = urlHostPort((backend as { url: string }).url);
      const tgi = profile[host];
      assert.ok(tgi, `${host} is a service of the gpu-replicas profile`);
      const args = tgi.command ?? [];
      assert.equal(Number(flag(args, 'port')), port, `${host} binds the port in the registry's URL`);
      assert.equal(flag(args, 'quantize'), 'gptq');
      assert.ok(model.aliases.includes(flag(args, 'model-id')!), `${host} serves one of ${model.id}'s aliases`);
      assert.equal(healthUrl(tgi).pathname, '/health');
      // Each replica gets a whole card: no memory fraction shared with another server.
      assert.equal(flag(args, 'cuda-memory-fraction'), undefined);
      return (tgi.deploy?.resources?.reservations?.devices ?? []).flatMap((d) => d.device_ids ?? []);
    });
    assert.deepEqual(cards, [['0'], ['1']], 'a GPU each');
    assert.ok(model.vramBudgetGb <= registry.gpus.find((gpu) => gpu.id === model.gpu)!.memoryGb);
    const [, gateway] = gatewayOf('gpu-replicas');
    for (const backend of replicas) assert.ok(gateway.depends_on?.[urlHostPort((backend as { url: string }).url).host]);
  });

  it('the image the gateway and engines run: multi-stage, production dependencies, non-root, health check on /health/ready', () => {
    const dockerfile = readFileSync(`${REPO_ROOT}docker/Dockerfile`, 'utf8');
    assert.ok((dockerfile.match(/^FROM /gm) ?? []).length >= 2, 'multi-stage');
    assert.match(dockerfile, /^RUN npm ci --omit=dev --omit=optional\b/m);
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /^EXPOSE (\d+)$/m);
    assert.equal(Number(dockerfile.match(/^EXPOSE (\d+)$/m)![1]), readGatewayConfig({}).port);
    assert.match(dockerfile, /^HEALTHCHECK [\s\S]*\/health\/ready/m);
    assert.match(dockerfile, /^COPY models\/\*\.gguf \.\/models\/$/m);
    assert.match(dockerfile, /^COPY config \.\/config$/m);
    for (const [name] of Object.entries(services).filter(([, s]) => s.image === 'sluice:0.1.0')) {
      assert.ok(name.startsWith('gateway') || name.startsWith('engine-'), `${name} runs the Sluice image`);
    }
  });

  it('publishes only the gateway by default; monitoring is a profile whose UIs listen on 127.0.0.1 only', () => {
    for (const profile of ['cpu', 'gpu', 'gpu-replicas']) {
      const published = Object.entries(inProfile(profile)).filter(([, s]) => publishedPorts(s).length > 0);
      assert.deepEqual(
        published.map(([name]) => name),
        [gatewayOf(profile)[0]],
        `profile ${profile} without monitoring publishes the gateway alone`,
      );
    }
    for (const name of ['statsd', 'graphite', 'prometheus', 'grafana']) {
      assert.deepEqual(services[name]!.profiles, ['monitoring'], `${name} starts only with --profile monitoring`);
      for (const port of publishedPorts(services[name]!))
        assert.equal(port.hostIp, '127.0.0.1', `${name} publishes ${port.published} on the loopback address only`);
    }
  });

  it("Grafana's admin password comes from GRAFANA_ADMIN_PASSWORD, and Grafana does not start without one", () => {
    const withPassword = run('docker-compose', ['config'], { env: { GRAFANA_ADMIN_PASSWORD: 's3cret-for-the-test' } });
    assert.equal(withPassword.status, 0, withPassword.stderr);
    const grafana = (YAML.parse(withPassword.stdout).services as Record<string, ComposeService>).grafana!;
    assert.equal(grafana.environment?.GF_SECURITY_ADMIN_PASSWORD, 's3cret-for-the-test');
    const entrypoint = (grafana as { entrypoint?: string[] }).entrypoint?.join(' ') ?? '';
    // `config` writes the file's `$$` (a literal `$` for the container's shell) as it stands.
    assert.match(entrypoint, /-z "\$\$?GF_SECURITY_ADMIN_PASSWORD".*exit 1.*exec \/run\.sh/, entrypoint);
    const unset = run('docker-compose', ['config'], { env: { GRAFANA_ADMIN_PASSWORD: '' } });
    const password = (YAML.parse(unset.stdout).services as Record<string, ComposeService>).grafana!.environment
      ?.GF_SECURITY_ADMIN_PASSWORD;
    assert.notEqual(password, 'admin', 'never the default admin/admin');
  });

  it('monitoring: StatsD flushes to the graphite service; Prometheus and Grafana point at services that exist', () => {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- statsd evaluates its config file the same way
    const statsd = new Function(`return (${readFileSync(`${REPO_ROOT}monitoring/statsd/config.js`, 'utf8')});`)();
    assert.ok(services[statsd.graphiteHost], `statsd's graphiteHost ${statsd.graphiteHost} is a service`);
    assert.equal(statsd.graphitePort, 2003);
    assert.deepEqual(statsd.backends, ['./backends/graphite']);
    assert.ok(publishedPorts(services.statsd!).some((p) => p.target === statsd.port && p.protocol === 'udp'));

    const listens: Record<string, number> = {};
    for (const [name, service] of Object.entries(services)) {
      if (service.command && flag(service.command, 'port')) listens[name] = Number(flag(service.command, 'port'));
      if (service.environment?.PORT) listens[name] = Number(service.environment.PORT);
    }
    const prometheus = YAML.parse(readFileSync(`${REPO_ROOT}monitoring/prometheus/prometheus.yml`, 'utf8'));
    const targets: string[] = prometheus.scrape_configs.flatMap((job: any) =>
      job.static_configs.flatMap((c: any) => c.targets),
    );
    assert.ok(targets.length > 0);
    for (const target of targets) {
      const [host, port] = target.split(':');
      assert.equal(listens[host!], Number(port), `prometheus target ${target}: ${host} listens on ${listens[host!]}`);
    }
    const grafana = YAML.parse(
      readFileSync(`${REPO_ROOT}monitoring/grafana/provisioning/datasources/datasources.yaml`, 'utf8'),
    );
    for (const source of grafana.datasources)
      assert.ok(services[new URL(source.url).hostname], `grafana data source ${source.url}`);
  });

  it('monitoring: every gateway sends StatsD to the statsd service; Grafana loads the dashboards from where they are mounted', () => {
    const gateways = Object.entries(services).filter(([, s]) => s.environment?.MODELS_CONFIG !== undefined);
    assert.ok(gateways.length >= 2);
    for (const [name, gateway] of gateways) {
      assert.ok(
        services[gateway.environment!.STATSD_HOST!],
        `${name}: STATSD_HOST ${gateway.environment!.STATSD_HOST} is a service`,
      );
      assert.equal(Number(gateway.environment!.STATSD_PORT), 8125, name);
    }
    const provider = YAML.parse(
      readFileSync(`${REPO_ROOT}monitoring/grafana/provisioning/dashboards/dashboards.yaml`, 'utf8'),
    ).providers[0];
    const mounts = (services.grafana!.volumes ?? []).map((v: any) =>
      typeof v === 'string' ? v : `${v.source}:${v.target}`,
    );
    assert.ok(
      mounts.some((m: string) => /monitoring\/grafana\/dashboards:/.test(m) && m.includes(`:${provider.options.path}`)),
      `grafana mounts monitoring/grafana/dashboards at ${provider.options.path}: ${mounts.join(', ')}`,
    );
  });
});

describe('the image build (docker/Dockerfile, without a Docker engine)', () => {
  it('copies into its build stage every file its TypeScript build reads: the tsconfig chain and the sources', () => {
    const dockerfile = readFileSync(`${REPO_ROOT}docker/Dockerfile`, 'utf8');
    const buildStage = dockerfile.split(/^FROM /m)[1]!;
    const copied = [...buildStage.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) =>
      m[1]!.trim().split(/\s+/).slice(0, -1),
    );
    const build = buildStage.match(/^RUN npx tsc -p (\S+)/m);
    assert.ok(build, 'the build stage compiles with npx tsc -p <config>');
    const isCopied = (path: string) => copied.some((source) => path === source || path.startsWith(`${source}/`));

    const chain: string[] = [];
    for (let config: string | undefined = build[1]; config;) {
      chain.push(config);
      const extended = (JSON.parse(readFileSync(REPO_ROOT + config, 'utf8')) as { extends?: string }).extends;
      config = extended && join(dirname(config), extended);
    }
    assert.deepEqual(
      chain.filter((config) => !isCopied(config)),
      [],
      `configs not copied (chain: ${chain.join(' -> ')})`,
    );

    const listed = run('npx', ['tsc', '-p', build[1]!, '--listFilesOnly']);
    assert.equal(listed.status, 0, listed.stdout + listed.stderr);
    const sources = listed.stdout
      .split('\n')
      .filter((file) => file && !file.includes('/node_modules/'))
      .map((file) => relative(REPO_ROOT, file));
    assert.ok(sources.some((file) => file.startsWith('apps/gateway/src/')));
    assert.deepEqual(
      sources.filter((file) => !isCopied(file)),
      [],
    );
    assert.deepEqual(
      sources.filter((file) => /\.(spec|int|e2e)\.ts$|\/testing\//.test(file)),
      [],
      'no tests',
    );
  });
});
