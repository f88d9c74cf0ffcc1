import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadRegistryConfig } from './load-registry-config.js';
import { parseRegistryConfig } from './parse-registry-config.js';
import { RegistryConfigError } from './registry-config-error.js';
import { configDir, parseRaw, problemsOf, problemsOfText, validRawConfig } from './testing/registry-fixtures.js';

/** Asserts that exactly one problem line matches, so that each rule is shown to name key, value and fix. */
function assertProblem(problems: readonly string[], expected: string | RegExp): void {
  const matches = problems.filter((line) => (typeof expected === 'string' ? line === expected : expected.test(line)));
  assert.equal(matches.length, 1, `expected one problem matching ${expected}, got:\n${problems.join('\n')}`);
}

describe('the shipped registry files', () => {
  it('config/models.yaml parses into the two local CPU models of the embedded default', () => {
    const config = loadRegistryConfig(join(configDir(), 'models.yaml'));
    assert.deepEqual(config.gpus, []);
    assert.deepEqual(config.requiredForReadiness, ['qwen2', 'llama3']);
    assert.deepEqual(
      config.models.map((m) => m.id),
      ['qwen2', 'llama3'],
    );
    const qwen2 = config.models[0]!;
    assert.deepEqual(qwen2.backend, {
      type: 'local',
      modelPath: 'models/qwen2-tiny-q8_0.gguf',
      host: '127.0.0.1',
      port: null,
      engine: { contexts: 1, sequences: 8, contextSize: 1024, threads: 1, gpuLayers: 0, maxConcurrentRequests: 128 },
    });
    assert.equal(qwen2.quantization, 'gguf-q8_0');
    assert.equal(qwen2.gpu, null);
    assert.equal(qwen2.vramBudgetGb, 0);
    assert.ok(qwen2.aliases.includes('Qwen2-7B-Instruct-GPTQ-Int4'));
    assert.ok(config.models[1]!.aliases.includes('Meta-Llama-3.1-8B-Instruct-GPTQ-INT4'));
    assert.deepEqual(
      {
        ...qwen2,
        id: undefined,
        aliases: undefined,
        backend: undefined,
        quantization: undefined,
        vramBudgetGb: undefined,
        gpu: undefined,
      },
      {
        id: undefined,
        aliases: undefined,
        backend: undefined,
        quantization: undefined,
        vramBudgetGb: undefined,
        gpu: undefined,
        maxConcurrent: 8,
        maxQueued: 256,
        maxQueueWaitMs: 1000,
        maxNewTokens: 512,
        defaultMaxNewTokens: 128,
        timeouts: { connectMs: 2000, firstByteMs: 30000, interTokenMs: 10000, totalMs: 60000, startupMs: 120000 },
      },
    );
  });

  it('config/models.gpu.yaml parses into two TGI models that fit one 12 GB GPU, each under 7.5 GB', () => {
    const config = loadRegistryConfig(join(configDir(), 'models.gpu.yaml'));
    assert.deepEqual(config.gpus, [{ id: '0', memoryGb: 12 }]);
    assert.deepEqual(
      config.models.map((m) => [m.id, m.backend, m.quantization, m.gpu, m.maxConcurrent]),
      [
        ['qwen2', { type: 'tgi', url: 'http://tgi-qwen2:80' }, 'gptq-int4', '0', 8],
        ['llama3', { type: 'tgi', url: 'http://tgi-llama3:80' }, 'gptq-int4', '0', 8],
      ],
    );
    for (const model of config.models)
      assert.ok(model.vramBudgetGb > 0 && model.vramBudgetGb < 7.5, `${model.id} budget`);
    assert.ok(config.models.reduce((sum, m) => sum + m.vramBudgetGb, 0) <= 12);
  });
});

describe('parseRegistryConfig: what it fills in', () => {
  it('takes omitted limits from defaults, and omitted defaults from the built-in values, key by key', () => {
    const raw = validRawConfig();
    raw.defaults = { max_queued: 10, timeouts: { total_ms: 90000 } };
    raw.models[1].timeouts = { first_byte_ms: 5000 };
    raw.models[1].max_concurrent = 2;
    const [qwen2, llama3] = parseRaw(raw).models;
    assert.equal(qwen2!.maxQueued, 10);
    assert.equal(qwen2!.maxConcurrent, 4);
    assert.deepEqual(qwen2!.timeouts, {
      connectMs: 2000,
      firstByteMs: 30000,
      interTokenMs: 10000,
      totalMs: 90000,
      startupMs: 120000,
    });
    assert.equal(llama3!.maxConcurrent, 2);
    assert.deepEqual(llama3!.timeouts, {
      connectMs: 2000,
      firstByteMs: 5000,
      interTokenMs: 10000,
      totalMs: 90000,
      startupMs: 120000,
    });
  });

  it('fills a local backend with the engine defaults and keeps model_path as written', () => {
    const raw = validRawConfig();
    raw.models[1].backend = { type: 'local', model_path: '../elsewhere/m.gguf' };
    const backend = parseRaw(raw).models[1]!.backend;
    assert.deepEqual(backend, {
      type: 'local',
      modelPath: '../elsewhere/m.gguf',
      host: '127.0.0.1',
      port: null,
      engine: { contexts: 1, sequences: 4, contextSize: null, threads: 1, gpuLayers: 0, maxConcurrentRequests: 128 },
    });
  });

  it('reads a bare numeric GPU id as text and drops a trailing slash from a TGI url', () => {
    const raw = validRawConfig();
    raw.gpus = [{ id: 0, memory_gb: 12 }];
    raw.models[0].gpu = 0;
    raw.models[0].backend.url = 'https://tgi.example:8443/';
    const config = parseRaw(raw);
    assert.equal(config.gpus[0]!.id, '0');
    assert.equal(config.models[0]!.gpu, '0');
    assert.deepEqual(config.models[0]!.backend, { type: 'tgi', url: 'https://tgi.example:8443' });
  });

  it('expands readiness "all" to every model id and keeps an explicit list', () => {
    assert.deepEqual(parseRaw(validRawConfig()).requiredForReadiness, ['qwen2', 'llama3']);
    const raw = validRawConfig();
    raw.readiness = { required: ['llama3'] };
    assert.deepEqual(parseRaw(raw).requiredForReadiness, ['llama3']);
    delete raw.readiness;
    assert.deepEqual(parseRaw(raw).requiredForReadiness, ['qwen2', 'llama3']);
  });

  it('treats an empty gpus:, readiness: or defaults: section as absent', () => {
    const text = `gpus:\nreadiness:\ndefaults:\nmodels:\n  - id: a\n    quantization: gguf-q8_0\n    backend: {type: local, model_path: a.gguf}\n`;
    const config = parseRegistryConfig(text, 'x.yaml');
    assert.deepEqual([config.gpus, config.requiredForReadiness, config.models[0]!.maxConcurrent], [[], ['a'], 4]);
  });
});

describe('parseRegistryConfig: what it refuses', () => {
  it('refuses a misspelt key by name and suggests the closest known key', () => {
    const raw = validRawConfig();
    raw.models[0].max_concurent = 8;
    raw.models[0].backend.urll = 'x';
    raw.modles = [];
    const problems = problemsOf(raw);
    assertProblem(problems, 'models[0].max_concurent: unknown key — did you mean max_concurrent?');
    assertProblem(problems, 'models[0].backend.urll: unknown key — did you mean url?');
    assertProblem(problems, 'modles: unknown key — did you mean models?');
  });

  it('still checks the rest of a mapping that holds a misspelt key', () => {
    const raw = validRawConfig();
    raw.models[0].vram_budget = 6;
    raw.models[0].vram_budget_gb = 13;
    assert.deepEqual(problemsOf(raw), [
      'models[0].vram_budget: unknown key — did you mean vram_budget_gb?',
      'gpus[0]: GPU "0" has memory_gb 12 but the vram_budget_gb of its models loaded always add up to 13 (qwen2 13) — lower their budgets to 12 GB in all, load some on demand (load: on_demand), or place a model on another GPU',
    ]);
  });

  it('refuses an unknown key with nothing close by listing the known keys', () => {
    const raw = validRawConfig();
    raw.defaults.colour = 'blue';
    assertProblem(
      problemsOf(raw),
      /^defaults\.colour: unknown key — remove it \(known keys here: max_concurrent, .*timeouts\)$/,
    );
  });

  it('reports every problem at once, across sections', () => {
    const raw = validRawConfig();
    raw.gpus[0].memory_gb = -1;
    raw.defaults.max_queued = -3;
    raw.models[0].id = 'bad id';
    raw.models[1].backend.port = 0;
    raw.readiness.required = 'some';
    const problems = problemsOf(raw);
    assert.equal(problems.length, 5, problems.join('\n'));
    assertProblem(
      problems,
      'gpus[0].memory_gb: -1 is not a number above 0 — write the GPU memory in GB, e.g. memory_gb: 12',
    );
    assertProblem(problems, /^defaults\.max_queued: -3 is not a whole number of 0 or more — /);
    assertProblem(problems, /^models\[0\]\.id: "bad id" is not an id of letters, digits/);
    assertProblem(
      problems,
      'models[1].backend.port: 0 is not a whole number from 1 to 65535 — write a port from 1 to 65535, or null to pick a free one',
    );
    assertProblem(
      problems,
      'readiness.required: "some" is not "all" or a list of model ids — write required: all, or required: [qwen2, llama3]',
    );
  });

  it('refuses ids that are not unique or not of the allowed characters', () => {
    const raw = validRawConfig();
    raw.models[1].id = 'qwen2';
    assertProblem(
      problemsOf(raw),
      'models[1].id: "qwen2" is already the id of models[0] — give every model its own id',
    );
    raw.models[1].id = '-llama';
    assertProblem(problemsOf(raw), /^models\[1\]\.id: "-llama" is not an id .* — rename it, e.g. id: qwen2$/);
    raw.models[1].id = 'meta/llama3';
    assertProblem(problemsOf(raw), /^models\[1\]\.id: "meta\/llama3" is not an id/);
  });

  it('refuses an alias that is another id, another alias, or repeated', () => {
    const raw = validRawConfig();
    raw.models[1].aliases = ['qwen2', 'qwen2-7b-instruct', 'llama3', 'l3', 'l3'];
    const problems = problemsOf(raw);
    assert.equal(problems.length, 4, problems.join('\n'));
    assertProblem(
      problems,
      'models[1].aliases[0]: "qwen2" is already the id of models[0] (qwen2) — remove the alias or rename one of them',
    );
    assertProblem(
      problems,
      'models[1].aliases[1]: "qwen2-7b-instruct" is already an alias of models[0] (qwen2) — remove one of them',
    );
    assertProblem(
      problems,
      'models[1].aliases[2]: "llama3" is already the id of this model — remove the alias or rename one of them',
    );
    assertProblem(problems, 'models[1].aliases[4]: "l3" is already an alias of this model — remove one of them');
  });

  it('refuses counts that are not positive whole numbers', () => {
    const raw = validRawConfig();
    raw.models[0].max_concurrent = 0;
    raw.models[0].max_new_tokens = 1.5;
    raw.models[0].default_max_new_tokens = '64';
    raw.models[1].backend.engine.sequences = -1;
    const problems = problemsOf(raw);
    assertProblem(
      problems,
      'models[0].max_concurrent: 0 is not a whole number of 1 or more — write how many requests the backend gets at once, e.g. 4',
    );
    assertProblem(problems, /^models\[0\]\.max_new_tokens: 1\.5 is not a whole number of 1 or more — /);
    assertProblem(problems, /^models\[0\]\.default_max_new_tokens: "64" is not a whole number of 1 or more — /);
    assertProblem(problems, /^models\[1\]\.backend\.engine\.sequences: -1 is not a whole number from 1 to 256 — /);
  });

  it('refuses a default_max_new_tokens above max_new_tokens, in defaults and in a model', () => {
    const raw = validRawConfig();
    raw.defaults.default_max_new_tokens = 600;
    assertProblem(
      problemsOf(raw),
      'defaults.default_max_new_tokens: 600 is above max_new_tokens 512 — lower it to 512 or less, or raise max_new_tokens',
    );
    const own = validRawConfig();
    own.models[0].max_new_tokens = 64;
    assertProblem(
      problemsOf(own),
      'models[0].default_max_new_tokens: 128 is above max_new_tokens 64 — lower it to 64 or less, or raise max_new_tokens',
    );
  });

  it('refuses timeouts that are not positive, or longer than the total', () => {
    const raw = validRawConfig();
    raw.defaults.timeouts = { connect_ms: 0 };
    raw.models[0].timeouts = { first_byte_ms: 70000 };
    raw.models[1].timeouts = { inter_token_ms: 20000, total_ms: 15000 };
    const problems = problemsOf(raw);
    assertProblem(
      problems,
      /^defaults\.timeouts\.connect_ms: 0 is not a whole number of 1 or more — write the time to open a connection/,
    );
    assertProblem(
      problems,
      'models[0].timeouts.first_byte_ms: 70000 is above total_ms 60000: the request would time out while still waiting for the first token — lower it to 60000 or less, or raise total_ms',
    );
    assertProblem(
      problems,
      /^models\[1\]\.timeouts\.inter_token_ms: 20000 is above total_ms 15000: .* — lower it to 15000 or less, or raise total_ms$/,
    );
  });

  it('refuses a gpu that is not declared, and a GPU model without a VRAM budget', () => {
    const raw = validRawConfig();
    raw.models[0].gpu = '1';
    assertProblem(
      problemsOf(raw),
      'models[0].gpu: "1" is not a declared GPU (declared: "0") — add {id: "1", memory_gb: ...} under gpus:, name a declared GPU, or write gpu: null for CPU',
    );
    raw.gpus = [];
    assertProblem(problemsOf(raw), /^models\[0\]\.gpu: "1" is not a declared GPU \(no GPU is declared\) — /);
    const zero = validRawConfig();
    zero.models[0].vram_budget_gb = 0;
    assertProblem(problemsOf(zero), /^models\[0\]\.vram_budget_gb: 0 on GPU "0" — a model on a GPU needs a budget/);
  });

  it('refuses models whose VRAM budgets add up to more than their GPU, naming each budget, the sum and the capacity', () => {
    const raw = validRawConfig();
    raw.models[0].vram_budget_gb = 6.8;
    Object.assign(raw.models[1], { gpu: '0', vram_budget_gb: 6.8 });
    raw.models[1].backend.engine.gpu_layers = 'auto';
    assert.deepEqual(problemsOf(raw), [
      'gpus[0]: GPU "0" has memory_gb 12 but the vram_budget_gb of its models loaded always add up to 13.6 (qwen2 6.8 + llama3 6.8) — lower their budgets to 12 GB in all, load some on demand (load: on_demand), or place a model on another GPU',
    ]);
    raw.models[1].vram_budget_gb = 5.2; // 6.8 + 5.2 is 12.000000000000002 in floating point, and fits
    assert.equal(parseRaw(raw).models.length, 2);
  });

  it('refuses a negative VRAM budget, a duplicate GPU id and a GPU without memory', () => {
    const raw = validRawConfig();
    raw.models[0].vram_budget_gb = -1;
    raw.gpus.push({ id: '0', memory_gb: 8 }, { id: '2' });
    const problems = problemsOf(raw);
    assertProblem(problems, /^models\[0\]\.vram_budget_gb: -1 is not a number of 0 or more — /);
    assertProblem(problems, /^gpus\[2\]\.memory_gb: missing — write the GPU memory in GB/);
  });

  it('refuses a duplicate GPU id', () => {
    const raw = validRawConfig();
    raw.gpus.push({ id: '0', memory_gb: 8 });
    assert.deepEqual(problemsOf(raw), ['gpus[1].id: "0" is already declared by gpus[0] — give each GPU its own id']);
  });

  it('refuses a TGI url that is not an absolute http(s) URL', () => {
    for (const url of ['tgi-qwen2', 'tgi-qwen2:80', 'ftp://tgi:21', '']) {
      const raw = validRawConfig();
      raw.models[0].backend.url = url;
      assert.deepEqual(problemsOf(raw), [
        `models[0].backend.url: ${JSON.stringify(url)} is not an absolute http(s) URL — write it as http://host:port, e.g. http://tgi-qwen2:80`,
      ]);
    }
  });

  it('refuses an unknown or missing backend type, and a backend that is not a mapping', () => {
    const raw = validRawConfig();
    raw.models[0].backend.type = 'vllm';
    assertProblem(
      problemsOf(raw),
      /^models\[0\]\.backend\.type: "vllm" is not a backend type — write type: tgi .* type: local .* or type: process/,
    );
    delete raw.models[0].backend.type;
    assertProblem(problemsOf(raw), /^models\[0\]\.backend\.type: missing — write type: tgi/);
    raw.models[0].backend = 'http://tgi:80';
    assertProblem(
      problemsOf(raw),
      /^models\[0\]\.backend: "http:\/\/tgi:80" is not a mapping — write backend: \{type: tgi/,
    );
  });

  it('refuses a local backend with an empty model_path or a port out of range; null picks a free port', () => {
    const raw = validRawConfig();
    raw.models[1].backend.model_path = ' ';
    raw.models[1].backend.port = 70000;
    const problems = problemsOf(raw);
    assertProblem(
      problems,
      'models[1].backend.model_path: " " is not a non-empty text — write the path of a GGUF file, e.g. models/qwen2-tiny-q8_0.gguf',
    );
    assertProblem(problems, /^models\[1\]\.backend\.port: 70000 is not a whole number from 1 to 65535 — /);
    raw.models[1].backend.model_path = 'a.gguf';
    raw.models[1].backend.port = null;
    assert.equal(parseRaw(raw).models[1]!.backend.type, 'local');
    delete raw.models[1].backend.model_path;
    assertProblem(problemsOf(raw), /^models\[1\]\.backend\.model_path: missing — write the path of a GGUF file/);
  });

  it('refuses local engine settings the engine could not honour', () => {
    const raw = validRawConfig();
    raw.models[1].backend.engine = { context_size: 512, gpu_layers: 10, max_concurrent_requests: 2 };
    raw.models[1].max_concurrent = 3;
    const problems = problemsOf(raw);
    assert.equal(problems.length, 3, problems.join('\n'));
    assertProblem(
      problems,
      /^models\[1\]\.backend\.engine\.gpu_layers: 10 offloads layers to a GPU but the model's gpu is null — write gpu_layers: 0/,
    );
    assertProblem(
      problems,
      /^models\[1\]\.max_concurrent: 3 is above backend\.engine\.max_concurrent_requests 2, so the engine would answer 429 — /,
    );
    assertProblem(
      problems,
      'models[1].max_new_tokens: 512 leaves no room for a prompt in backend.engine.context_size 512 — lower it below 512 or raise context_size',
    );
  });

  it('refuses a local engine bound to anything but a loopback address', () => {
    const raw = validRawConfig();
    raw.models[1].backend.host = '0.0.0.0';
    assert.deepEqual(problemsOf(raw), [
      'models[1].backend.host: "0.0.0.0" is not a loopback address — write 127.0.0.1: an engine answers anyone who reaches it, so it listens for the gateway only',
    ]);
  });

  it('refuses two local engines on the same host and port', () => {
    const raw = validRawConfig();
    raw.models[0] = { ...raw.models[1], id: 'other', aliases: [] };
    raw.models[0].backend = { ...raw.models[1].backend, port: 8081 };
    raw.models[1].backend.port = 8081;
    assert.deepEqual(problemsOf(raw), [
      'models[1].backend.port: 8081 is already the port of models[0] (other) on 127.0.0.1 — pick another port, or null for a free one',
    ]);
  });

  it('refuses readiness ids that name no model, but not a model that is broken for another reason', () => {
    const raw = validRawConfig();
    raw.readiness.required = ['qwen2', 'mistral'];
    raw.models[0].quantization = '';
    const problems = problemsOf(raw);
    assert.equal(problems.length, 2, problems.join('\n'));
    assertProblem(
      problems,
      'readiness.required[1]: "mistral" is not a model id (models: qwen2, llama3) — name a declared model, or write required: all',
    );
    assertProblem(problems, /^models\[0\]\.quantization: "" is not a non-empty text — write a label such as gptq-int4/);
  });

  it('refuses an empty or missing models list', () => {
    const raw = validRawConfig();
    raw.models = [];
    assert.deepEqual(problemsOf(raw), ['models: the list is empty — declare at least one model']);
    delete raw.models;
    assert.deepEqual(problemsOf(raw), ['models: missing — add models: with at least one model (see config/README.md)']);
  });

  it('refuses a file that is empty, not YAML, or not a mapping, naming the file and the line', () => {
    for (const text of ['', '# nothing but a comment\n']) {
      assert.throws(
        () => parseRegistryConfig(text, 'config/empty.yaml'),
        (error: unknown) =>
          error instanceof RegistryConfigError &&
          /^config\/empty\.yaml: .*\n {2}- the file holds no YAML document/.test(error.message),
      );
    }
    const problems = problemsOfText('models:\n  - id: a\n    id: b\n');
    assert.equal(problems.length, 1);
    assert.match(
      problems[0]!,
      /^YAML syntax error at line 3, column 5: Map keys must be unique \(DUPLICATE_KEY\) — fix the YAML there\n/,
    );
    assert.match(
      problemsOfText('models: [a, b\n')[0]!,
      /^YAML syntax error at line \d+, column \d+: .*\(\w+\) — fix the YAML there/,
    );
    assert.deepEqual(problemsOfText('- a\n- b\n'), [
      '(top level): ["a","b"] is not a mapping — write a mapping with the keys gpus, readiness, defaults and models',
    ]);
  });
});

describe('parseRegistryConfig: dispatch', () => {
  it('orders by arrival unless told otherwise', () => {
    assert.deepEqual(parseRaw(validRawConfig()).dispatch, { priority: 'fifo', scenarioPriority: {} });
  });

  it('reads a scenario priority order and shortest_first', () => {
    const raw = validRawConfig();
    raw.dispatch = { priority: 'scenario', scenario_priority: { chat: 1, qa: 2, summarize: 3 } };
    assert.deepEqual(parseRaw(raw).dispatch, {
      priority: 'scenario',
      scenarioPriority: { chat: 1, qa: 2, summarize: 3 },
    });
    raw.dispatch = { priority: 'shortest_first' };
    assert.equal(parseRaw(raw).dispatch!.priority, 'shortest_first');
  });

  it('refuses an unknown order, scenario priorities that are not whole numbers, names no request can send, and a misspelt key', () => {
    const raw = validRawConfig();
    raw.dispatch = { priority: 'lifo', scenario_priority: { chat: 0, 'q a': 2 }, scenario_priorty: {} };
    const problems = problemsOf(raw);
    assertProblem(
      problems,
      /^dispatch\.priority: "lifo" is not fifo, scenario or shortest_first — write priority: fifo/,
    );
    assertProblem(problems, /^dispatch\.scenario_priority\.chat: 0 is not a whole number from 1 to 1000/);
    assertProblem(problems, 'dispatch.scenario_priorty: unknown key — did you mean scenario_priority?');
    const fixed = validRawConfig();
    fixed.dispatch = { scenario_priority: { 'q a': 2 } };
    assertProblem(
      problemsOf(fixed),
      /^dispatch\.scenario_priority\.q a: "q a" is not a scenario name a request can send/,
    );
  });

  it('refuses priority: scenario without scenario_priority', () => {
    const raw = validRawConfig();
    raw.dispatch = { priority: 'scenario' };
    assertProblem(problemsOf(raw), /^dispatch\.scenario_priority: missing — priority: scenario orders by it/);
  });
});

describe('loadRegistryConfig', () => {
  it('names a file it cannot read', () => {
    assert.throws(
      () => loadRegistryConfig('config/does-not-exist.yaml'),
      (error: unknown) =>
        error instanceof RegistryConfigError &&
        error.message.includes('config/does-not-exist.yaml') &&
        error.problems[0] === 'cannot read it (no such file) — check the path; it is relative to the working directory',
    );
  });

  it('reads the same config as parseRegistryConfig on the file text', () => {
    const path = join(configDir(), 'models.yaml');
    assert.deepEqual(loadRegistryConfig(path), parseRegistryConfig(readFileSync(path, 'utf8'), path));
  });
});
