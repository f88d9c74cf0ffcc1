import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT } from '../cli/exit-codes.js';
import { helpFor } from '../cli/help.js';
import { parseDuration, parseNumber } from '../cli/parse-values.js';
import { parseFlags, type LoadSettings } from '../cli/run-options.js';
import { UsageError } from '../cli/usage-error.js';
import { requestPath, type Target } from '../client/target-api.js';
import { LoadProfile } from '../load/profile.js';
import { executeRun, type LoadModel } from '../load/run-load.js';
import type { WorkloadConfig } from '../load/workload.js';
import { outputDirectory, writeJson, writeJsonl } from '../output/files.js';
import { progressPrinter } from '../output/progress-line.js';
import { resultBase } from '../output/result.js';
import { judgeRun } from '../output/run-section.js';
import { fmtMs, renderTable } from '../output/table.js';
import { BENCH_MAIN, ChildService } from '../overhead/child-service.js';
import { startGatewayProcess } from '../overhead/gateway-process.js';
import { isLegName, LEG_NAMES, legServer, legTarget, ROUTE_LEGS, type LegName } from '../overhead/overhead-legs.js';
import { PATH_HEADER, pathRows } from '../overhead/overhead-paths.js';
import { legUsage, type ProcessUsage } from '../overhead/process-usage.js';
import {
  overheadReportPage,
  type OverheadLeg,
  type OverheadResult,
  type SideBySideRoute,
} from '../overhead/overhead-report.js';
import { roundOrders } from '../overhead/overhead-rounds.js';
import {
  ADDED_HEADER,
  addedRows,
  FIXED_RATE_HEADER,
  fixedRateRows,
  RATIO_HEADER,
  ratioRow,
  roundCount,
  roundRows,
  SIDE_BY_SIDE_HEADER,
  sideBySideRows,
} from '../overhead/overhead-tables.js';
import { summarizeOverhead } from '../overhead/overhead-summary.js';
import { measureSideBySide } from '../overhead/side-by-side.js';
import { renderHtml } from '../report/html-report.js';
import { interruptOnSigint } from './shared.js';

const OVERHEAD_FLAGS = {
  backend: { type: 'string' },
  gateway: { type: 'string' },
  model: { type: 'string', default: 'mock' },
  route: { type: 'string', default: 'generate' },
  legs: { type: 'string' },
  'gateway-cpu-prof': { type: 'string' },
  rate: { type: 'string', default: '500' },
  arrivals: { type: 'string', default: 'poisson' },
  duration: { type: 'string', default: '5s' },
  rounds: { type: 'string', default: '3' },
  'side-by-side': { type: 'string', default: '10s' },
  'saturation-duration': { type: 'string', default: '10s' },
  concurrency: { type: 'string', default: '64' },
  warmup: { type: 'string', default: '2s' },
  tokens: { type: 'string', default: '16' },
  mode: { type: 'string', default: 'stream' },
  'mock-ttft': { type: 'string', default: '0ms' },
  'mock-itl': { type: 'string', default: '0ms' },
  'mock-jitter': { type: 'string', default: '0ms' },
  seed: { type: 'string', default: '1' },
  timeout: { type: 'string', default: '30s' },
  'max-loop-delay-ms': { type: 'string', default: '50' },
  'max-schedule-lag-ms': { type: 'string', default: '50' },
  check: { type: 'boolean', default: false },
  out: { type: 'string' },
  label: { type: 'string' },
  'no-html': { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/**
 * `bench overhead`: the same load straight at a backend (direct), through the plain node:http proxy (the floor for
 * any Node proxy), and through the gateway, in one run: each path's saturation throughput (closed loop, high
 * concurrency, once per leg in the order of --legs), then the gateway's added latency per percentile at a fixed
 * open-loop rate, in --rounds rounds whose leg order alternates (forward, reversed, ...) so the machine's drift
 * cancels; each round compares a leg with its direct leg of the same round, and the summary takes the median over
 * rounds. The chat legs do the same for `/v1/chat/completions` (the backend's own chat route, straight and through
 * the gateway's), so the two routes' added latencies can be compared.
 */
export async function overheadCommand(args: string[]): Promise<number> {
  const { values: v } = parseFlags(args, OVERHEAD_FLAGS);
  if (v.help) {
    process.stdout.write(helpFor('overhead'));
    return 0;
  }
  const s = (k: string) => v[k] as string;
  const route = s('route');
  if (route !== 'generate' && route !== 'chat' && route !== 'both')
    throw new UsageError(`--route "${route}" is not valid: write generate, chat or both`);
  const legs: string[] =
    v.legs === undefined
      ? [...ROUTE_LEGS[route]]
      : s('legs')
          .split(',')
          .map((l) => l.trim());
  if (legs.length === 0 || !legs.every(isLegName) || new Set(legs).size !== legs.length) {
    throw new UsageError(`--legs "${s('legs')}" is not valid: a list of ${LEG_NAMES.join(', ')}`);
  }
  const cpuProfDir = v['gateway-cpu-prof'] as string | undefined;
  if (s('mode') !== 'stream' && s('mode') !== 'json')
    throw new UsageError(`--mode "${s('mode')}" is not valid: write stream or json`);
  const arrivals = s('arrivals');
  if (arrivals !== 'poisson' && arrivals !== 'constant')
    throw new UsageError(`--arrivals "${arrivals}" is not valid: write poisson or constant`);
  const stream = s('mode') === 'stream';
  const rate = parseNumber('--rate', s('rate'), { min: 0.001 });
  const durationMs = parseDuration('--duration', s('duration'));
  const rounds = parseNumber('--rounds', s('rounds'), { integer: true, min: 1 });
  const saturationMs = parseDuration('--saturation-duration', s('saturation-duration'));
  const sideBySideMs = parseDuration('--side-by-side', s('side-by-side'));
  const warmupMs = parseDuration('--warmup', s('warmup'));
  const concurrency = parseNumber('--concurrency', s('concurrency'), { integer: true, min: 1 });
  const tokens = parseNumber('--tokens', s('tokens'), { integer: true, min: 1 });
  const seed = parseNumber('--seed', s('seed'), { integer: true, min: 0 });
  const timeoutMs = parseDuration('--timeout', s('timeout'));
  const thresholds = {
    maxLoopDelayMs: parseNumber('--max-loop-delay-ms', s('max-loop-delay-ms'), { min: 0 }),
    maxScheduleLagMs: parseNumber('--max-schedule-lag-ms', s('max-schedule-lag-ms'), { min: 0 }),
  };
  const mockArgs = ['--ttft', s('mock-ttft'), '--itl', s('mock-itl'), '--jitter', s('mock-jitter')];
  for (const [flag, value] of [
    ['--mock-ttft', s('mock-ttft')],
    ['--mock-itl', s('mock-itl')],
    ['--mock-jitter', s('mock-jitter')],
  ] as const)
    parseDuration(flag, value, 'ms');
  const modelId = s('model');
  const dir = outputDirectory(v.out as string | undefined, 'overhead');
  const startedAt = new Date().toISOString();
  const say = (line: string) => process.stdout.write(`${line}\n`);

  const children: Array<{ stop(): Promise<void> }> = [];
  const servers: Partial<Record<'backend' | 'proxy' | 'gateway', ChildService>> = {};
  const interrupt = interruptOnSigint();
  try {
    // 1. The backend: given, or our mock in a process of its own (it must not share the load generator's loop).
    let backendUrl = v.backend as string | undefined;
    if (!backendUrl) {
      const mock = ChildService.start('mock-backend', BENCH_MAIN, [
        'mock-backend',
        '--port',
        '0',
        '--parent-pipe',
        ...mockArgs,
      ]);
      children.push(mock);
      servers.backend = mock;
      backendUrl = (await mock.waitFor(/listening on (http:\/\/\S+)/, 20_000))[1]!;
      say(
        `backend: bench mock-backend at ${backendUrl} (a load-test target, not a model; ttft ${s('mock-ttft')}, per token ${s('mock-itl')})`,
      );
    } else say(`backend: ${backendUrl} (given)`);
    backendUrl = backendUrl.replace(/\/+$/, '');

    // 2. The paths in front of it.
    const urls: { backend: string; proxy?: string; gateway?: string } = { backend: backendUrl };
    if (legs.some((leg) => legServer(leg) === 'proxy')) {
      const proxy = ChildService.start('plain-proxy', BENCH_MAIN, [
        'plain-proxy',
        '--target',
        backendUrl,
        '--port',
        '0',
        '--parent-pipe',
      ]);
      children.push(proxy);
      servers.proxy = proxy;
      urls.proxy = (await proxy.waitFor(/listening on (http:\/\/\S+)/, 20_000))[1]!;
      say(`plain proxy: ${urls.proxy} (node:http, keep-alive agent, pipes request and response)`);
    }
    if (legs.some((leg) => legServer(leg) === 'gateway')) {
      let url = v.gateway as string | undefined;
      if (!url) {
        const profiling = cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', cpuProfDir];
        const gateway = await startGatewayProcess(backendUrl, modelId, tokens, profiling);
        children.push(gateway);
        servers.gateway = gateway.service;
        url = gateway.url;
        say(`gateway: ${url} (apps/gateway, one model "${modelId}" on the backend, caps out of the way)`);
      } else say(`gateway: ${url} (given; model "${modelId}")`);
      urls.gateway = url.replace(/\/+$/, '');
    }
    const targets = new Map<LegName, Target>(legs.map((leg) => [leg, legTarget(leg, urls)]));
    const compared = [
      stream
        ? `direct and proxy: POST /generate_stream {inputs, parameters: {max_new_tokens: ${tokens}, details: true}} (what the gateway sends its backend); gateway: POST /v1/generate {model_id, inputs, scenario, stream: true, parameters: {max_new_tokens: ${tokens}}}, which the gateway serves from the backend's /generate_stream. Both read the whole SSE stream.`
        : `direct and proxy: POST /generate {inputs, parameters: {max_new_tokens: ${tokens}}} (JSON); gateway: POST /v1/generate (JSON), which the gateway serves from the backend's /generate (with details: true, for the finish reason and the seed).`,
      ...(legs.some((leg) => leg.endsWith('-chat'))
        ? [
            stream
              ? `direct-chat and proxy-chat: the backend's POST /v1/chat/completions {model: "tgi", messages: [{role: "user", content: inputs}], max_tokens: ${tokens}, stream: true, stream_options: {include_usage: true}} (what the gateway sends its backend); gateway-chat: the gateway's POST /v1/chat/completions, the same body with model "${modelId}". All read the whole stream to [DONE]; added latency is over direct-chat.`
              : `direct-chat and proxy-chat: the backend's POST /v1/chat/completions (JSON, model "tgi"); gateway-chat: the gateway's POST /v1/chat/completions (JSON, model "${modelId}"), which it serves from the backend's one answer (stream: false).`,
          ]
        : []),
      `CPU per request: each server process's own process.cpuUsage() (user + system) over the leg, asked over an IPC channel before and after it, / the leg's successful requests (warm-up included); the proxy and gateway legs count their own process, the direct legs the backend's. Event-loop delay: monitorEventLoopDelay (5 ms resolution) inside each process over the leg; garbage collections from a PerformanceObserver of 'gc' entries there.`,
      rounds > 1
        ? `saturation and fixed rate in ${rounds} rounds (${saturationMs / 1000} s and ${durationMs / 1000} s per leg), the leg order reversed every other round (${legs.join(', ')}, then ${[...legs].reverse().join(', ')}); each ratio is taken within a round (a leg against its direct or proxy leg of the same round), and the summary gives the median over rounds with the rounds' min–max.`
        : `fixed rate in one round of ${durationMs / 1000} s per leg, in the order of --legs.`,
      ...(sideBySideMs > 0
        ? [
            `CPU per request side by side: after the rounds, per route, one open-loop Poisson stream at ${rate}/s to each of the proxy and the gateway together (each request to one of them at random), ${rounds} repetition${rounds > 1 ? 's' : ''} of ${sideBySideMs / 1000} s after ${warmupMs / 1000} s of warm-up; each server's process.cpuUsage() over the same window / its successful answers that ended in it. Both pay for the same moments of the machine, which legs run one after another do not. Where the route's direct leg runs, the backend takes a third stream straight at the same rate, and each path's added p99 side by side is its e2e p99 over direct's in the same window.`,
          ]
        : []),
      `latency: client e2e from the intended send time, successful requests, nearest-rank percentiles; the same seed, so every leg gets the same request sequence and arrival times.`,
      `throughput (qps): successful answers that ended inside the measured window (after the warm-up, before the load stopped) / the window's length.`,
    ];
    for (const line of compared) say(line);
    const workload: WorkloadConfig = {
      models: [{ id: modelId, weight: 1 }],
      languages: ['en'],
      maxNewTokens: [tokens],
      temperatures: [],
      topP: null,
      streamFraction: stream ? 1 : 0,
    };

    const results: OverheadLeg[] = [];
    const runLeg = async (leg: LegName, phase: OverheadLeg['phase'], round?: number) => {
      const phaseName = `${phase === 'saturation' ? 'saturation' : 'fixed rate'}${rounds > 1 ? ` round ${round}/${rounds}` : ''}`;
      const target = targets.get(leg)!;
      const lengthMs = (phase === 'saturation' ? saturationMs : durationMs) + warmupMs;
      const load: LoadModel =
        phase === 'saturation'
          ? { kind: 'concurrency', profile: LoadProfile.constant(concurrency, lengthMs) }
          : {
              kind: 'open',
              profile: LoadProfile.constant(rate, lengthMs),
              arrivals,
              maxInFlight: 10_000,
              maxPending: 100_000,
            };
      const settings: LoadSettings = {
        load,
        durationMs: lengthMs,
        description:
          phase === 'saturation' ? `closed loop, ${concurrency} concurrent` : `open loop (${arrivals}) at ${rate}/s`,
        parameters: {},
      };
      const progress = v.quiet ? undefined : progressPrinter(`${phaseName} ${leg} `);
      const server = servers[legServer(leg)];
      const before = await usageOf(server);
      const backendBefore = server === servers.backend ? before : await usageOf(servers.backend);
      const outcome = await executeRun(
        { target, workload, load, durationMs: lengthMs, warmupMs, maxRequests: Infinity, seed, timeoutMs, thresholds },
        { onProgress: progress?.print, signal: interrupt.signal },
      );
      progress?.end();
      const after = await usageOf(server);
      const backendAfter = server === servers.backend ? after : await usageOf(servers.backend);
      const answered = outcome.records.reduce((n, r) => n + (r.ok ? 1 : 0), 0);
      const judged = judgeRun(outcome, settings, warmupMs, [], 10);
      const jsonl = join(dir, `requests-${phase}${round === undefined ? '' : `-round${round}`}-${leg}.jsonl`);
      await writeJsonl(jsonl, outcome.records);
      const o = judged.section.summary.overall;
      const entry: OverheadLeg = {
        leg,
        phase,
        ...(round === undefined ? {} : { round }),
        url: target.url,
        request: `POST ${requestPath(target.api, stream)}`,
        requests: { total: o.requests.total, ok: o.requests.ok, failed: o.requests.failed },
        errors_by_type: o.errors_by_type,
        qps: o.throughput.qps,
        e2e_ms: o.latency_ms.e2e,
        ttft_ms: o.latency_ms.ttft,
        validity: judged.section.validity,
        jsonl,
        ...(before && after ? { usage: legUsage(legServer(leg), before, after, answered) } : {}),
        ...(backendBefore && backendAfter
          ? { backend_usage: legUsage('backend', backendBefore, backendAfter, answered) }
          : {}),
      };
      results.push(entry);
      say(
        `${phaseName} ${leg.padEnd(12)}: ${entry.qps.toFixed(1)} ok/s, e2e p50 ${fmtMs(o.latency_ms.e2e.p50)} p99 ${fmtMs(o.latency_ms.e2e.p99)} ms, ` +
          `failed ${o.requests.failed}${
            o.requests.failed
              ? ` (${Object.entries(o.errors_by_type)
                  .map(([t, n]) => `${t} ${n}`)
                  .join(', ')})`
              : ''
          }, ${entry.usage?.cpu_ms_per_request != null ? `${entry.usage.process} CPU ${entry.usage.cpu_ms_per_request.toFixed(4)} ms/req, loop delay p99 ${entry.usage.loop_delay_ms.p99.toFixed(1)} max ${entry.usage.loop_delay_ms.max.toFixed(1)} ms, GC ${entry.usage.gc.per_1000_requests ?? '—'}/1000 req (longest ${entry.usage.gc.max_pause_ms.toFixed(1)} ms), ` : ''}${entry.validity.valid ? 'valid' : `INVALID: ${entry.validity.reasons.join('; ')}`}`,
      );
    };
    // Rounds, each leg's order flipped from the last round's (ABBA), so drift favours no leg; saturation first in
    // each: it tells whether the fixed rate is below every path's saturation.
    for (const [i, order] of roundOrders(legs, rounds).entries()) {
      for (const leg of order) if (!interrupt.signal.aborted) await runLeg(leg, 'saturation', i + 1);
      for (const leg of order) if (!interrupt.signal.aborted) await runLeg(leg, 'fixed_rate', i + 1);
    }

    const sideBySide: SideBySideRoute[] = [];
    if (sideBySideMs > 0) {
      const proxy = servers.proxy;
      const gateway = servers.gateway;
      for (const [route, directLeg, proxyLeg, gatewayLeg] of SIDE_BY_SIDE_ROUTES) {
        if (interrupt.signal.aborted || !legs.includes(proxyLeg) || !legs.includes(gatewayLeg)) continue;
        if (proxy === undefined || gateway === undefined) {
          say(`side by side ${route}: skipped (a gateway given by --gateway has no channel to ask for its CPU time)`);
          continue;
        }
        const measured = await measureSideBySide(
          {
            ...(legs.includes(directLeg) ? { direct: { target: targets.get(directLeg)! } } : {}),
            proxy: { target: targets.get(proxyLeg)!, usage: () => proxy.usage() },
            gateway: { target: targets.get(gatewayLeg)!, usage: () => gateway.usage() },
          },
          { ratePerServer: rate, durationMs: sideBySideMs, warmupMs, repetitions: rounds, seed, timeoutMs, workload },
          interrupt.signal,
        );
        sideBySide.push({ route, ...measured });
        for (const r of measured.repetitions)
          say(
            `side by side ${route} ${r.repetition}/${rounds}: proxy ${r.proxy.ok} ok, ${r.proxy.failed} failed, CPU ${r.proxy.cpu_ms_per_request?.toFixed(4) ?? '—'} ms/req; gateway ${r.gateway.ok} ok, ${r.gateway.failed} failed, CPU ${r.gateway.cpu_ms_per_request?.toFixed(4) ?? '—'} ms/req; gateway/proxy ${r.ratio?.toFixed(3) ?? '—'}×${
              r.added_p99_ms
                ? `; added p99 over direct (${r.direct!.ok} ok, p99 ${fmtMs(r.direct!.e2e_ms.p99)} ms): proxy ${fmtMs(r.added_p99_ms.proxy)} ms, gateway ${fmtMs(r.added_p99_ms.gateway)} ms, gateway/proxy ${r.added_p99_ratio?.toFixed(3) ?? '—'}×`
                : ''
            }`,
          );
      }
    }

    const result = summarizeOverhead(results, { rate });
    const exitCode =
      interrupt.signal.aborted || results.some((l) => !l.validity.valid)
        ? EXIT.invalidRun
        : v.check && result.goals.some((g) => g.met === false)
          ? EXIT.sloFailed
          : EXIT.ok;
    const full: OverheadResult = {
      ...resultBase('overhead', (v.label as string | undefined) ?? null, startedAt),
      exit_code: exitCode,
      verdict: exitCode === EXIT.invalidRun ? 'invalid' : result.goals.some((g) => g.met === false) ? 'fail' : 'pass',
      compared,
      settings: {
        backend: backendUrl,
        started_mock: !v.backend,
        mock: v.backend ? null : { ttft: s('mock-ttft'), itl: s('mock-itl'), jitter: s('mock-jitter') },
        route,
        legs,
        rate,
        arrivals,
        rounds,
        duration_s: durationMs / 1000,
        saturation_duration_s: saturationMs / 1000,
        warmup_s: warmupMs / 1000,
        concurrency,
        tokens,
        mode: s('mode'),
        side_by_side_s: sideBySideMs / 1000,
        seed,
        gateway_cpu_prof: cpuProfDir ?? null,
      },
      ...result,
      ...(sideBySide.length > 0 ? { side_by_side: sideBySide } : {}),
    };
    writeJson(join(dir, 'result.json'), full);
    if (!v['no-html']) writeFileSync(join(dir, 'report.html'), renderHtml(overheadReportPage(full)));
    say('');
    say(formatOverhead(full));
    say(
      `verdict: ${full.verdict.toUpperCase()} (exit ${exitCode}${!v.check && full.verdict === 'fail' ? '; goals are only enforced with --check' : ''})`,
    );
    if (cpuProfDir !== undefined) say(`gateway CPU profile: ${cpuProfDir} (written when the gateway stopped)`);
    say(`files: ${join(dir, 'result.json')}${v['no-html'] ? '' : `, ${join(dir, 'report.html')}`}, requests-*.jsonl`);
    return exitCode;
  } finally {
    interrupt.dispose();
    for (const child of children.reverse()) await child.stop();
  }
}

/** The routes measured side by side: the direct leg's, the proxy's and the gateway's. */
const SIDE_BY_SIDE_ROUTES: ReadonlyArray<readonly [string, LegName, LegName, LegName]> = [
  ['/v1/generate', 'direct', 'proxy', 'gateway'],
  ['/v1/chat/completions', 'direct-chat', 'proxy-chat', 'gateway-chat'],
];

/** A server's usage, where the benchmark started it (a given gateway or backend has no channel to ask). */
async function usageOf(server: ChildService | undefined): Promise<ProcessUsage | undefined> {
  return server?.usage();
}

function formatOverhead(r: OverheadResult): string {
  const ms = (x: number | null) => (x === null ? '—' : x.toFixed(3));
  const sat = r.legs.filter((l) => l.phase === 'saturation');
  const s = r.settings as { rate: number; concurrency: number };
  const n = roundCount(r);
  const overRounds = n > 1 ? `, median over ${n} rounds (min–max)` : '';
  const ratio = ratioRow(r);
  const perRound = roundRows(r);
  const lines = [
    `fixed rate ${s.rate}/s, e2e ms${overRounds}:`,
    renderTable(FIXED_RATE_HEADER, fixedRateRows(r), '  '),
    `added latency vs direct, ms${overRounds}:`,
    renderTable(ADDED_HEADER, addedRows(r), '  '),
    ...(ratio
      ? [
          `  chat/generate added latency: ${ratio
            .slice(1)
            .map((x, i) => `${RATIO_HEADER[i + 1]} ${x}`)
            .join(', ')}`,
        ]
      : []),
    ...(n > 1 && perRound.header.length > 2
      ? ['each round, added latency ms:', renderTable(perRound.header, perRound.rows, '  ')]
      : []),
    ...(r.paths?.length
      ? [
          `gateway vs plain proxy (per process; CPU = user + system ms per successful request${overRounds}):`,
          renderTable(PATH_HEADER, pathRows(r.paths, n), '  '),
        ]
      : []),
    ...(r.side_by_side?.length
      ? [
          `CPU per request and added p99 side by side (ms; each request to one of the paths at random${n > 1 ? `, median over ${n} repetitions (min–max)` : ''}):`,
          renderTable(SIDE_BY_SIDE_HEADER, sideBySideRows(r.side_by_side, n), '  '),
        ]
      : []),
    `saturation (closed loop, ${s.concurrency} concurrent${n > 1 ? `, each round` : ''}):`,
    renderTable(
      ['leg', 'round', 'req/s', 'e2e p50', 'e2e p99', 'failed', 'valid'],
      sat.map((l) => [
        l.leg,
        String(l.round ?? 1),
        l.qps.toFixed(1),
        ms(l.e2e_ms.p50),
        ms(l.e2e_ms.p99),
        String(l.requests.failed),
        l.validity.valid ? 'yes' : 'NO',
      ]),
      '  ',
    ),
    `  ${Object.entries(r.ratios)
      .map(([k, x]) => `${k} ${x === null ? '—' : `${x.toFixed(3)}×`}`)
      .join(', ')}`,
    'goals:',
    renderTable(
      ['goal', 'measured', 'result'],
      r.goals.map((g) => [g.goal, g.measured, g.met === null ? 'n/a' : g.met ? 'met' : 'NOT MET']),
      '  ',
    ),
    ...r.notes.map((n) => `note: ${n}`),
  ];
  return lines.join('\n');
}
