import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isTargetApi, TARGET_APIS, type Target } from '../client/target-api.js';
import type { ArrivalProcess } from '../load/arrival-schedule.js';
import type { HealthThresholds } from '../load/client-health.js';
import { LoadProfile, type Stage } from '../load/profile.js';
import type { LoadModel } from '../load/run-load.js';
import { SEED_WORKLOAD, type PromptLanguage, type WorkloadConfig } from '../load/workload.js';
import { parseSlo, type Slo } from '../slo/slo.js';
import {
  parseDuration,
  parseModelMix,
  parseNumber,
  parseNumberList,
  parseStages,
  parseThinkTime,
} from './parse-values.js';
import { UsageError } from './usage-error.js';

/** Flags shared by `run` and `sweep`: target, workload, measurement, output. */
export const COMMON_FLAGS = {
  url: { type: 'string', default: 'http://localhost:8000' },
  api: { type: 'string', default: 'gateway' },
  models: { type: 'string' },
  prompts: { type: 'string', default: 'all' },
  'max-new-tokens': { type: 'string', default: '64,128' },
  temperature: { type: 'string', default: '0.7,0.9' },
  'top-p': { type: 'string', default: '0.9' },
  stream: { type: 'boolean', default: false },
  'stream-fraction': { type: 'string' },
  seed: { type: 'string', default: '1' },
  arrivals: { type: 'string' },
  'max-in-flight': { type: 'string', default: '1000' },
  'max-pending': { type: 'string', default: '100000' },
  requests: { type: 'string' },
  warmup: { type: 'string', default: '0s' },
  timeout: { type: 'string', default: '60s' },
  'late-after-ms': { type: 'string', default: '10' },
  'max-loop-delay-ms': { type: 'string', default: '50' },
  'max-schedule-lag-ms': { type: 'string', default: '50' },
  slo: { type: 'string', multiple: true, default: [] },
  out: { type: 'string' },
  label: { type: 'string' },
  'no-html': { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

export const RUN_FLAGS = {
  ...COMMON_FLAGS,
  users: { type: 'string' },
  'spawn-rate': { type: 'string' },
  'think-time': { type: 'string' },
  concurrency: { type: 'string' },
  rate: { type: 'string' },
  stages: { type: 'string' },
  duration: { type: 'string', default: '60s' },
} as const satisfies ParseArgsConfig['options'];

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** node:util parseArgs, with its errors turned into usage errors. */
export function parseFlags(
  args: string[],
  options: ParseArgsConfig['options'],
  positionals = 0,
): { values: FlagValues; positionals: string[] } {
  try {
    const parsed = parseArgs({ args, options, allowPositionals: positionals > 0, strict: true });
    if (parsed.positionals.length > positionals)
      throw new UsageError(`unexpected argument "${parsed.positionals[positionals]}"`);
    return { values: parsed.values, positionals: parsed.positionals };
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError((error as Error).message);
  }
}

export interface MeasurementSettings {
  target: Target;
  workload: WorkloadConfig;
  seed: number;
  timeoutMs: number;
  warmupMs: number;
  maxRequests: number;
  lateThresholdMs: number;
  thresholds: HealthThresholds;
  slos: Slo[];
  arrivals: ArrivalProcess;
  maxInFlight: number;
  maxPending: number;
  out: string | undefined;
  label: string | null;
  html: boolean;
  quiet: boolean;
}

const str = (v: FlagValues, key: string) => v[key] as string | undefined;

export function measurementSettings(v: FlagValues): MeasurementSettings {
  const api = str(v, 'api')!;
  if (!isTargetApi(api))
    throw new UsageError(
      `--api "${api}" is not valid: write ${Object.entries(TARGET_APIS)
        .map(([name, route]) => `${name} (${route})`)
        .join(', ')}`,
    );
  const url = str(v, 'url')!;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:') throw new Error();
  } catch {
    throw new UsageError(`--url "${url}" is not valid: write http://host:port, e.g. http://localhost:8000`);
  }
  const prompts = str(v, 'prompts')!;
  const languages: PromptLanguage[] =
    prompts === 'all' ? ['zh', 'en'] : prompts === 'zh' || prompts === 'en' ? [prompts] : [];
  if (languages.length === 0)
    throw new UsageError(`--prompts "${prompts}" is not valid: write zh (the guide's Chinese prompts), en, or all`);
  const arrivals = str(v, 'arrivals') ?? 'poisson';
  if (arrivals !== 'constant' && arrivals !== 'poisson')
    throw new UsageError(`--arrivals "${arrivals}" is not valid: write poisson or constant`);
  const temperature = str(v, 'temperature')!;
  const topP = str(v, 'top-p')!;
  const streamFraction = str(v, 'stream-fraction');
  if (streamFraction !== undefined && v.stream === true)
    throw new UsageError('--stream and --stream-fraction: give one (--stream is --stream-fraction 1)');
  const requests = str(v, 'requests');
  return {
    target: { url: url.replace(/\/+$/, ''), api, ...apiKeyFromEnvironment() },
    workload: {
      models: str(v, 'models') ? parseModelMix(str(v, 'models')!) : SEED_WORKLOAD.models,
      languages,
      maxNewTokens: parseNumberList('--max-new-tokens', str(v, 'max-new-tokens')!, { min: 1, integer: true }),
      temperatures: temperature === 'none' ? [] : parseNumberList('--temperature', temperature, { min: 0, max: 100 }),
      topP: topP === 'none' ? null : parseNumber('--top-p', topP, { min: 0, max: 1 }),
      streamFraction:
        v.stream === true
          ? 1
          : streamFraction !== undefined
            ? parseNumber('--stream-fraction', streamFraction, { min: 0, max: 1 })
            : 0,
    },
    seed: parseNumber('--seed', str(v, 'seed')!, { integer: true, min: 0, max: 2 ** 32 - 1 }),
    timeoutMs: positiveDuration('--timeout', str(v, 'timeout')!),
    warmupMs: parseDuration('--warmup', str(v, 'warmup')!),
    maxRequests: requests === undefined ? Infinity : parseNumber('--requests', requests, { integer: true, min: 1 }),
    lateThresholdMs: parseNumber('--late-after-ms', str(v, 'late-after-ms')!, { min: 0 }),
    thresholds: {
      maxLoopDelayMs: parseNumber('--max-loop-delay-ms', str(v, 'max-loop-delay-ms')!, { min: 0 }),
      maxScheduleLagMs: parseNumber('--max-schedule-lag-ms', str(v, 'max-schedule-lag-ms')!, { min: 0 }),
    },
    slos: (v.slo as string[]).map(parseSlo),
    arrivals,
    maxInFlight: parseNumber('--max-in-flight', str(v, 'max-in-flight')!, { integer: true, min: 1 }),
    maxPending: parseNumber('--max-pending', str(v, 'max-pending')!, { integer: true, min: 0 }),
    out: str(v, 'out'),
    label: str(v, 'label') ?? null,
    html: v['no-html'] !== true,
    quiet: v.quiet === true,
  };
}

export interface LoadSettings {
  load: LoadModel;
  durationMs: number;
  /** For the record: what was asked, in words and numbers. */
  description: string;
  parameters: Record<string, unknown>;
}

/**
 * The load model from the flags: exactly one of --rate (open loop), --users (Locust-style), --concurrency (closed
 * loop, no think time); none means the guide's Locust test, 50 users spawned at 5/s with 1–3 s think time.
 * --stages ramps the chosen one from its flag's value.
 */
export function loadSettings(v: FlagValues, m: MeasurementSettings): LoadSettings {
  const chosen = (['rate', 'users', 'concurrency'] as const).filter((k) => str(v, k) !== undefined);
  if (chosen.length > 1)
    throw new UsageError(
      `--${chosen.join(' and --')}: choose one load model (open-loop --rate, Locust-style --users, or fixed --concurrency)`,
    );
  const stagesText = str(v, 'stages');
  if (stagesText !== undefined && chosen.length === 0) {
    throw new UsageError(
      '--stages ramps a load model: give its starting value with --rate, --users or --concurrency (e.g. --rate 0 --stages 30s:10,1m:10)',
    );
  }
  const stages = stagesText !== undefined ? parseStages(stagesText) : undefined;
  const kind = chosen[0] ?? 'users';
  const durationFlag = str(v, 'duration')!;
  const stagesMs = stages?.reduce((t, s) => t + s.durationMs, 0);
  const durationMs = stages ? stagesMs! : positiveDuration('--duration', durationFlag);
  if (kind !== 'users' && (str(v, 'spawn-rate') !== undefined || str(v, 'think-time') !== undefined)) {
    throw new UsageError('--spawn-rate and --think-time belong to --users (Locust-style users)');
  }
  if (stages && str(v, 'spawn-rate') !== undefined)
    throw new UsageError('--spawn-rate and --stages: the stages already say how the users grow; give one');
  if (kind !== 'rate' && str(v, 'arrivals') !== undefined)
    throw new UsageError('--arrivals belongs to open-loop --rate');
  const stagesParam = stages?.map((s) => ({ duration_s: s.durationMs / 1000, target: s.target }));

  if (kind === 'rate') {
    const rate = parseNumber('--rate', str(v, 'rate')!, { min: 0 });
    if (!stages && rate === 0)
      throw new UsageError('--rate 0 sends nothing: give a rate above 0 (or ramp from 0 with --stages)');
    const profile = stages ? new LoadProfile(rate, stages) : LoadProfile.constant(rate, durationMs);
    return {
      load: { kind: 'open', profile, arrivals: m.arrivals, maxInFlight: m.maxInFlight, maxPending: m.maxPending },
      durationMs,
      description: stages
        ? `open loop (${m.arrivals}) from ${rate}/s through stages ${stagesText}`
        : `open loop (${m.arrivals}) at ${rate} req/s`,
      parameters: {
        model: 'open',
        rate,
        arrivals: m.arrivals,
        stages: stagesParam ?? null,
        max_in_flight: m.maxInFlight,
        max_pending: m.maxPending,
      },
    };
  }
  if (kind === 'concurrency') {
    const concurrency = parseNumber('--concurrency', str(v, 'concurrency')!, { integer: true, min: stages ? 0 : 1 });
    const profile = stages ? new LoadProfile(concurrency, stages) : LoadProfile.constant(concurrency, durationMs);
    return {
      load: { kind: 'concurrency', profile },
      durationMs,
      description: stages
        ? `closed loop from ${concurrency} concurrent through stages ${stagesText}`
        : `closed loop, ${concurrency} concurrent requests`,
      parameters: { model: 'concurrency', concurrency, stages: stagesParam ?? null },
    };
  }
  const users = parseNumber('--users', str(v, 'users') ?? '50', { integer: true, min: stages ? 0 : 1 });
  const spawnRate = parseNumber('--spawn-rate', str(v, 'spawn-rate') ?? '5', { min: 0.001 });
  const thinkText = str(v, 'think-time') ?? '1-3';
  const thinkTimeS = parseThinkTime(thinkText);
  const profile = stages ? new LoadProfile(users, stages) : spawnProfile(users, spawnRate, durationMs);
  const think = thinkTimeS ? `think ${thinkTimeS[0]}–${thinkTimeS[1]} s` : 'no think time';
  return {
    load: { kind: 'users', profile, thinkTimeS },
    durationMs,
    description: stages
      ? `users from ${users} through stages ${stagesText}, ${think}`
      : `${users} users spawned at ${spawnRate}/s, ${think}`,
    parameters: {
      model: 'users',
      users,
      spawn_rate: stages ? null : spawnRate,
      think_time_s: thinkTimeS,
      stages: stagesParam ?? null,
    },
  };
}

/** Locust's spawning as a profile: users grow at `rate` per second (the first at once) up to `users`. */
function spawnProfile(users: number, rate: number, durationMs: number): LoadProfile {
  const stages: Stage[] = [
    { durationMs: 0, target: 1 },
    { durationMs: ((users - 1) / rate) * 1000, target: users },
    { durationMs, target: users },
  ];
  return new LoadProfile(1, stages);
}

function positiveDuration(flag: string, text: string): number {
  const ms = parseDuration(flag, text);
  if (ms <= 0) throw new UsageError(`${flag} "${text}" must be above 0`);
  return ms;
}

/** A gateway with API keys takes the key from SLUICE_API_KEY (as the guide's scripts do), never from a flag: a flag
 * would show the key in `ps` and the shell's history. */
function apiKeyFromEnvironment(): { apiKey?: string } {
  const key = process.env.SLUICE_API_KEY;
  return key === undefined || key === '' ? {} : { apiKey: key };
}
