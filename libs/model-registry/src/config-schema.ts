/**
 * The shape of models.yaml (snake_case), one schema per section so that each section is checked even when
 * another one is broken. Rules that span keys live in config-rules.ts.
 */
import { z } from 'zod';
import { STOP_SIGNALS } from './registry-config.js';
import {
  duration,
  expecting,
  gpuId,
  httpUrl,
  mapping,
  matching,
  nonEmptyText,
  nonNegativeNumber,
  positiveNumber,
  wholeNumber,
} from './schema-leaves.js';

const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
// Aliases may also carry the '/' of Hugging Face repo names and the ':' of Ollama tags.
const MODEL_ALIAS = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;

const milliseconds = (fix: string) => wholeNumber(1, fix).optional();

const timeoutsShape = {
  connect_ms: milliseconds('write the time to open a connection to the backend in ms, e.g. 2000'),
  first_byte_ms: milliseconds('write the time allowed until the first token in ms, e.g. 30000'),
  inter_token_ms: milliseconds('write the time allowed between two streamed tokens in ms, e.g. 10000'),
  total_ms: milliseconds('write the time allowed for a whole request in ms, e.g. 60000'),
  startup_ms: milliseconds('write the time a backend may take to load its model in ms, e.g. 120000'),
};

/** Keys a model may set and the `defaults:` block may set for all models. */
const limitsShape = {
  max_concurrent: wholeNumber(1, 'write how many requests the backend gets at once, e.g. 4').optional(),
  max_queued: wholeNumber(
    0,
    'write how many requests may wait, e.g. 256 (0: refuse when all slots are busy)',
  ).optional(),
  max_queue_wait_ms: wholeNumber(
    1,
    'write the longest a request may be predicted to wait for a slot in ms, e.g. 1000',
  ).optional(),
  max_new_tokens: wholeNumber(1, 'write the most tokens a request may ask for, e.g. 512').optional(),
  default_max_new_tokens: wholeNumber(1, 'write the tokens generated when a request does not say, e.g. 128').optional(),
  timeouts: mapping(timeoutsShape, 'write timeouts: {connect_ms: 2000, first_byte_ms: 30000, ...}').optional(),
};

export const topLevelSchema = mapping(
  {
    gpus: z.unknown().optional(),
    readiness: z.unknown().optional(),
    dispatch: z.unknown().optional(),
    defaults: z.unknown().optional(),
    models: z.unknown().optional(),
  },
  'write a mapping with the keys gpus, readiness, defaults and models',
);

export const gpusSchema = z.array(
  mapping(
    {
      id: gpuId('write the GPU id as CUDA numbers it, e.g. id: "0"'),
      memory_gb: positiveNumber('write the GPU memory in GB, e.g. memory_gb: 12'),
    },
    'write each GPU as {id: "0", memory_gb: 12}',
  ),
  { error: expecting('a list', 'write gpus: [] (CPU only) or gpus: [{id: "0", memory_gb: 12}]') },
);

export const readinessSchema = mapping(
  {
    required: z
      .union([z.literal('all'), z.array(z.string())], {
        error: expecting('"all" or a list of model ids', 'write required: all, or required: [qwen2, llama3]'),
      })
      .optional(),
  },
  'write readiness: {required: all}',
);

const PRIORITY_ORDERS = ['fifo', 'scenario', 'shortest_first'] as const;

export const dispatchSchema = mapping(
  {
    priority: z
      .enum(PRIORITY_ORDERS, {
        error: expecting(
          'fifo, scenario or shortest_first',
          'write priority: fifo (arrival order), scenario (by scenario_priority) or shortest_first (fewest max_new_tokens first)',
        ),
      })
      .optional(),
    scenario_priority: z
      .record(z.string(), wholeNumber(1, 'write a whole number, lower goes first, e.g. chat: 1', 1000), {
        error: expecting(
          'a mapping of scenario names to priorities',
          'write scenario_priority: {chat: 1, qa: 2, summarize: 3}',
        ),
      })
      .optional(),
  },
  'write dispatch: {priority: fifo}',
);

export const defaultsSchema = mapping(limitsShape, 'write defaults: {max_concurrent: 4, ...}');

export const modelListSchema = z
  .array(z.unknown(), {
    error: expecting('a list of models', 'write models: as a list, each item starting with - id: ...'),
  })
  .min(1, { error: 'the list is empty — declare at least one model' });

// The engine's own ranges (apps/engine/src/config.ts), so that a value it would refuse fails here, before any start.
const engineSchema = mapping(
  {
    contexts: wholeNumber(1, 'write the number of llama.cpp contexts, e.g. 1', 64).optional(),
    sequences: wholeNumber(1, 'write the parallel sequences per context, e.g. 4', 256).optional(),
    context_size: wholeNumber(16, 'write the tokens per sequence, e.g. 1024, or null to follow the model', 1 << 20)
      .nullable()
      .optional(),
    threads: wholeNumber(1, 'write the threads per context, e.g. 1 (more is slower on small CPUs)', 256).optional(),
    gpu_layers: z
      .union([z.int().min(0).max(10_000), z.literal('auto')], {
        error: expecting(
          'a whole number from 0 to 10000, or "auto"',
          'write gpu_layers: 0 for CPU, a layer count, or auto',
        ),
      })
      .optional(),
    max_concurrent_requests: wholeNumber(
      1,
      'write the requests the engine admits before answering 429, e.g. 128',
      1 << 20,
    ).optional(),
  },
  'write engine: {contexts: 1, sequences: 4, threads: 1, ...}',
);

/** The address a server the gateway starts binds: loopback only, since only the gateway beside it may reach it. */
const loopbackHost = (hint: string) =>
  matching(/^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/, 'a loopback address', hint).optional();

const localBackendSchema = mapping(
  {
    type: z.literal('local'),
    model_path: nonEmptyText('write the path of a GGUF file, e.g. models/qwen2-tiny-q8_0.gguf'),
    // An engine checks no key and keeps no limit of its own: only the gateway beside it may reach it.
    host: loopbackHost('write 127.0.0.1: an engine answers anyone who reaches it, so it listens for the gateway only'),
    port: wholeNumber(1, 'write a port from 1 to 65535, or null to pick a free one', 65535).nullable().optional(),
    engine: engineSchema.optional(),
  },
  'write backend: {type: local, model_path: ..., ...}',
);

const processBackendSchema = mapping(
  {
    type: z.literal('process'),
    command: z
      .array(nonEmptyText('write each word of the command as its own item'), {
        error: expecting(
          'a list of words',
          'write command: [llama-server, -m, "${MODEL_PATH}", --port, "${PORT}"] — one item per word, no shell',
        ),
      })
      .min(1, { error: 'the list is empty — write the program first, then its arguments' })
      .refine((words) => words.some((word) => word.includes('${PORT}')), {
        error:
          'names no ${PORT} — pass "${PORT}" where the server takes its port, so the gateway knows where it listens',
      }),
    model_path: nonEmptyText('write the path of the model file that ${MODEL_PATH} stands for').optional(),
    host: loopbackHost('write 127.0.0.1: a server the gateway starts listens for the gateway only'),
    port: wholeNumber(1, 'write a port from 1 to 65535, or null to pick a free one', 65535).nullable().optional(),
    health: matching(
      /^\/\S*$/,
      'a route such as /health',
      'write the route that answers 200 once it serves, e.g. /health',
    ).optional(),
    stop_signal: z
      .enum(STOP_SIGNALS, {
        error: expecting(STOP_SIGNALS.join(', '), 'write stop_signal: SIGTERM (SIGINT for some servers)'),
      })
      .optional(),
    protocol: z
      .enum(['tgi', 'openai'], {
        error: expecting('tgi or openai', "write protocol: tgi (TGI, Sluice's engine) or openai (vLLM, llama-server)"),
      })
      .optional(),
    model: nonEmptyText("write the name the server serves the model under (vLLM's --served-model-name)").optional(),
  },
  'write backend: {type: process, command: [...], health: /health, ...}',
);

const tgiBackendSchema = mapping(
  { type: z.literal('tgi'), url: httpUrl('write it as http://host:port, e.g. http://tgi-qwen2:80') },
  'write backend: {type: tgi, url: http://host:port}',
);

const openAiBackendSchema = mapping(
  {
    type: z.literal('openai'),
    url: httpUrl("write the server's root as http://host:port, e.g. http://vllm-qwen2:8000").refine(
      (url) => !/\/v1$/.test(url),
      {
        error: expecting(
          "the server's root URL",
          'leave out /v1, e.g. http://vllm-qwen2:8000: Sluice adds /v1/completions and /v1/chat/completions',
        ),
      },
    ),
    model: nonEmptyText(
      "write the name the server serves the model under (vLLM's --served-model-name), or leave it out to use the first of GET /v1/models",
    ).optional(),
    api_key_env: matching(
      /^[A-Za-z_][A-Za-z0-9_]*$/,
      'an environment variable name',
      'write the name of the variable that holds the key, e.g. api_key_env: VLLM_API_KEY',
    ).optional(),
  },
  'write backend: {type: openai, url: http://host:port, model: <served name>}',
);

const BACKEND_TYPE_FIX =
  'write type: tgi (a TGI server at url), type: openai (vLLM, llama-server, SGLang or Ollama at url), type: local (an engine the gateway starts) or type: process (any server the gateway starts from a command)';

const backendSchema = z.discriminatedUnion(
  'type',
  [tgiBackendSchema, openAiBackendSchema, localBackendSchema, processBackendSchema],
  {
    error: (issue) => {
      // zod reports a wrong or missing `type` on the backend mapping itself; show the `type` value instead.
      if (issue.code === 'invalid_union' && isRecord(issue.input))
        return expecting('a backend type', BACKEND_TYPE_FIX)({ input: issue.input['type'] });
      return expecting(
        'a mapping',
        'write backend: {type: tgi, url: ...}, {type: openai, url: ...} or {type: local, model_path: ...}',
      )(issue);
    },
  },
);

export const modelSchema = mapping(
  {
    id: matching(
      MODEL_ID,
      `an id of letters, digits, '.', '_' or '-' (starting with a letter or digit)`,
      'rename it, e.g. id: qwen2',
    ),
    aliases: z
      .array(
        matching(
          MODEL_ALIAS,
          'an alias of letters, digits, ".", "_", "-", "/" or ":"',
          'write it like Qwen/Qwen2-7B-Instruct',
        ),
        {
          error: expecting('a list', 'write aliases: [name-a, name-b] or []'),
        },
      )
      .optional(),
    quantization: nonEmptyText('write a label such as gptq-int4 or gguf-q8_0'),
    vram_budget_gb: nonNegativeNumber(
      'write the GPU memory this model may take in GB, e.g. 6.8, or 0 on CPU',
    ).optional(),
    gpu: gpuId('write the id of a GPU declared under gpus:, or null for CPU').nullable().optional(),
    // One backend, or several replicas of the model (replicaCountSchema or replicaListSchema, read by the parser so
    // that a problem inside the list keeps its path; rules that span these keys are in config-rules.ts).
    backend: backendSchema.optional(),
    replicas: z.unknown().optional(),
    routing: z
      .enum(['least_outstanding', 'prefix'], {
        error: expecting(
          'least_outstanding or prefix',
          'write routing: least_outstanding (the default), or prefix to keep prompts that start alike on one replica',
        ),
      })
      .optional(),
    load: z
      .enum(['always', 'on_demand'], {
        error: expecting(
          'always or on_demand',
          'write load: always (loaded at start, the default) or load: on_demand (loaded by its first request, unloaded when idle)',
        ),
      })
      .optional(),
    keep_alive: duration('write how long an idle model on demand stays loaded, e.g. keep_alive: 5m').optional(),
    min_residency: duration(
      'write how long a model on demand stays loaded before another may push it out, e.g. min_residency: 10s',
    ).optional(),
    ...limitsShape,
  },
  'write each model as a mapping: - id: qwen2 ...',
);

export const replicaCountSchema = wholeNumber(
  1,
  'write how many engines to start beside a local backend:, e.g. replicas: 2',
  64,
);

export const replicaListSchema = z
  .array(backendSchema, {
    error: expecting('a list of backends', 'write replicas: [{type: tgi, url: ...}, {type: tgi, url: ...}]'),
  })
  .min(1, { error: 'the list is empty — list at least one backend, or write backend: instead' });

/** The settings each discovered address gets: a backend without its URL, which DNS gives. */
const DISCOVERED_TYPE_FIX =
  'write type: tgi (TGI servers) or type: openai (vLLM, llama-server, SGLang or Ollama servers): local engines are started by the gateway, not found';

export const dnsDiscoverySchema = mapping(
  {
    discover: z.literal('dns', {
      error: expecting('dns', 'write discover: dns (every A/AAAA record of host is a replica)'),
    }),
    host: matching(
      /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?\.?$/,
      'a DNS name',
      'write the name to resolve, e.g. tgi-qwen2.sluice.svc.cluster.local (a headless Service)',
    ),
    port: wholeNumber(1, 'write the port every replica listens on, e.g. 80', 65535),
    resolve_every_ms: wholeNumber(100, 'write how often to resolve the name again in ms, e.g. 10000').optional(),
    type: z.enum(['tgi', 'openai'], { error: expecting('tgi or openai', DISCOVERED_TYPE_FIX) }),
    model: nonEmptyText(
      "write the name the servers serve the model under (vLLM's --served-model-name), or leave it out",
    ).optional(),
    api_key_env: matching(
      /^[A-Za-z_][A-Za-z0-9_]*$/,
      'an environment variable name',
      'write the name of the variable that holds the key, e.g. api_key_env: VLLM_API_KEY',
    ).optional(),
  },
  'write replicas: {discover: dns, host: <name>, port: <port>, type: tgi}',
);

export type RawBackend = z.infer<typeof backendSchema>;
export type RawDnsDiscovery = z.infer<typeof dnsDiscoverySchema>;
export type RawDispatch = z.infer<typeof dispatchSchema>;
export type RawLimits = z.infer<typeof defaultsSchema>;
export type RawModel = z.infer<typeof modelSchema>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
