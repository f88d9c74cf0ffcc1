/** Usage text of every command (the README has the long form). */
const RUN_AND_SWEEP_COMMON = `
Target:
  --url URL                 base URL (default http://localhost:8000)
  --api API                 gateway: POST /v1/generate; tgi: POST /generate or /generate_stream; openai:
                            POST /v1/chat/completions; openai-completions: POST /v1/completions (default gateway)
  SLUICE_API_KEY=KEY        (environment) a gateway with API keys: sent as Authorization: Bearer KEY
Workload (drawn from a seeded RNG, request k is the same for the same --seed):
  --models ID[:W],...       model mix with weights (default qwen2:1,llama3:1)
  --prompts zh|en|all       the guide's four scenarios (qa, chat, summarize, rewrite) in Chinese, English, or both (all)
  --max-new-tokens N,...    choices, uniform (default 64,128)
  --temperature T,...|none  choices, uniform (default 0.7,0.9)
  --top-p P|none            (default 0.9)
  --stream                  stream every request (TTFT, TPOT, ITL need it); --stream-fraction F streams a fraction
  --seed N                  (default 1)
Measurement:
  --requests N              stop after N requests
  --warmup DURATION         requests meant for the first DURATION are sent but not measured (default 0s)
  --timeout DURATION        client timeout per request (default 60s)
  --arrivals poisson|constant   open-loop arrival process (default poisson)
  --max-in-flight N         open loop: requests in flight at most; later arrivals wait, late (default 1000)
  --max-pending N           open loop: arrivals that may wait; beyond, dropped and counted (default 100000)
  --late-after-ms MS        an arrival sent later than this is counted late (default 10)
  --max-loop-delay-ms MS    invalid run if the client's event-loop delay p99 exceeds this (default 50)
  --max-schedule-lag-ms MS  invalid run if the open-loop schedule lag p99 exceeds this (default 50)
  --slo EXPR                repeatable: e2e.p99<1.5s, ttft.p95<300ms, tpot.p50<50ms, itl.p99<100ms,
                            server_ttft.p99<1s, qps>=10, tokens_per_s>=100, errors<1%, errors.timeout<0.5%,
                            e2e.p99[qwen2]<1.5s (one model). Percentiles pN, also mean/min/max
Output:
  --out DIR                 result.json, requests.jsonl, report.html (default bench-results/<kind>-<time>/)
  --label NAME  --no-html  --quiet (no progress line)
`;

const TEXT: Record<string, string> = {
  main: `sluice-bench: load generator and benchmark for the Sluice gateway and TGI-protocol backends

Usage: npm run bench -- <command> [flags]          (npm run bench -- <command> --help for its flags)

  run            one load against one target (the default command): summary, JSON, JSONL, HTML report
  sweep          open-loop runs at a series of rates (or a bisection): the highest rate meeting the SLOs
  compare        two result files side by side, with differences and ratios
  overhead       the same load at a backend, through a plain Node proxy and through the gateway (also its chat route)
  soak           run's load for a long time (default 30m): fails when the gateway's or an engine's RSS grows
                 more than 10 % after the warm-up, or when any request goes unanswered
  mock-backend   a TGI-protocol load-test target (not a model) with set delays, errors and 429s
  plain-proxy    the overhead baseline: a minimal node:http reverse proxy
  report         draw the HTML report again from a result.json

Exit codes: 0 pass (or no SLOs), 1 an SLO failed, 2 usage error, 3 invalid run (client saturated, nothing
succeeded, interrupted), 4 the tool failed.
`,
  run: `Usage: npm run bench -- run [flags]

Load model (one of; default: the guide's Locust test, --users 50 --spawn-rate 5 --think-time 1-3):
  --users N                 Locust-style users: send, wait for the answer, think, repeat
    --spawn-rate R          users started per second (default 5)
    --think-time A-B|A      seconds between a user's requests, uniform (default 1-3; 0 for none)
  --concurrency N           closed loop: N requests always in flight (no think time)
  --rate R                  open loop: R arrivals per second whatever the server does (latency from the
                            intended send time; late and dropped arrivals counted)
  --stages D:T,...          ramp the chosen model's target linearly, from its flag's value: --rate 0 --stages 30s:10,1m:10
  --duration DURATION       length of the load (default 60s; with --stages, their sum)
${RUN_AND_SWEEP_COMMON}`,
  sweep: `Usage: npm run bench -- sweep (--rates R1,R2,... | --bisect LOW:HIGH) --slo EXPR [...] [flags]

  --rates R1,R2,...         open-loop rates, run in ascending order; stops at the first that fails the SLOs
  --keep-going              run every rate even after one fails
  --bisect LOW:HIGH         bisection between two rates (assumes what holds at a rate holds below it)
  --precision R             bisection stops when the interval is this narrow (default 0.5 req/s)
  --max-steps N             bisection steps at most (default 10)
  --duration DURATION       per step (default 20s)
  --cooldown DURATION       pause between steps (default 1s)
Goodput = the highest offered rate at which the run was valid and every SLO held.
${RUN_AND_SWEEP_COMMON}`,
  compare: `Usage: npm run bench -- compare A.json B.json

Prints the two results' figures side by side with B − A and B / A (run results: overall and per model;
sweep results: goodput and the rates both ran).
`,
  overhead: `Usage: npm run bench -- overhead [flags]

The same load straight at a backend (direct), through a plain node:http proxy, and through the gateway, in
rounds whose leg order alternates (forward, reversed, ...): each path's saturation throughput, then its latency at
a fixed open-loop rate, with each server process's own CPU time per request (process.cpuUsage, asked over IPC),
event-loop delay and garbage collections. Each round compares the gateway with the proxy (CPU per request,
saturation, added p99 over direct); the summary gives the median over rounds with the rounds' min–max.
  --backend URL             a TGI-protocol backend (default: start bench mock-backend as a child process)
  --mock-ttft D --mock-itl D --mock-jitter D   the started mock's delays (default 0ms each)
  --gateway URL             a running gateway whose model --model serves --backend (default: start one)
  --model ID                the gateway's model id (default mock)
  --route generate|chat|both   the legs: direct,proxy,gateway (POST /v1/generate); direct-chat,proxy-chat,
                            gateway-chat (POST /v1/chat/completions, over the backend's own); both: all six (default generate)
  --legs LIST               which paths, in this order, instead of --route's
  --rate R                  fixed open-loop rate (default 500)
  --arrivals poisson|constant   (default poisson; every leg gets the same arrival times)
  --rounds N                rounds (saturation, then fixed rate), the leg order reversed every other round (default 3)
  --duration D              fixed-rate leg length per round, after warm-up (default 5s)
  --saturation-duration D   saturation leg length after warm-up (default 10s)
  --side-by-side D          after the rounds, per route: the proxy and the gateway at --rate each together, each
                            request to one of them at random, --rounds repetitions of D after warm-up, their CPU
                            per request over the same seconds (default 10s; 0s skips it)
  --concurrency N           saturation: closed-loop concurrency (default 64)
  --warmup D                per leg and round, not measured (default 2s)
  --tokens N                max_new_tokens of every request (default 16)
  --mode stream|json        stream: SSE on every path (like for like); json: /generate vs /v1/generate (default stream)
  --check                   exit 1 when a goal is missed, per route (medians of the rounds): gateway CPU per request
                            ≤ 1.3× the proxy's at --rate; saturation ≥ 0.6× the proxy's; added p99 ≤ 2× the proxy's;
                            with both routes, the chat route within 10 % of /v1/generate on each, and its added
                            p50 ≤ 1.1× /v1/generate's
  --gateway-cpu-prof DIR    start the gateway with node --cpu-prof, its profile written to DIR when it stops
  --seed N  --timeout D  --max-loop-delay-ms MS  --max-schedule-lag-ms MS  --out DIR  --label NAME  --no-html  --quiet
`,
  soak: `Usage: npm run bench -- soak [--gateway-pid PID] [--duration 30m] [--warmup 2m] [flags]

Runs run's load (every run flag works) while sampling the resident memory (VmRSS, /proc) of the gateway and of
every engine it started (their pids from the gateway's admin GET /models, with SLUICE_API_KEY where it has keys).
Per process, after the warm-up: baseline = mean of the first N samples, final = mean of the last N, growth =
(final − baseline) / baseline. Exit 1 when a process grows more than --max-growth or any request goes unanswered
(a client timeout, a lost connection or a dropped arrival; 4xx and 5xx answers are answers, counted apart).
  --gateway-pid PID         the gateway's process id; without it, only the engines are sampled
  --duration DURATION       length of the load, warm-up included (default 30m)
  --warmup DURATION         no memory figure counts before it (default 2m)
  --sample DURATION         RSS sampling interval (default 10s)
  --baseline-samples N      samples averaged for the baseline and for the final figure (default 3)
  --max-growth F            0.1 or 10% (default 10%)
Load model and the rest: as run (default: --users 50 --spawn-rate 5 --think-time 1-3).
${RUN_AND_SWEEP_COMMON}`,
  'mock-backend': `Usage: npm run bench -- mock-backend [flags]

A TGI-protocol LOAD-TEST TARGET, NOT A MODEL: /generate, /generate_stream (SSE), /v1/chat/completions (streamed
or not), /health, /info with TGI's shapes; placeholder tokens after set delays. For measuring the gateway itself.
  --host H                  (default 127.0.0.1)
  --port N                  (default 8080; 0 picks a free one)
  --ttft D                  delay to the first token (default 0ms)
  --itl D                   delay between tokens (default 0ms)
  --jitter D                each delay gets an extra uniform [0, D) (default 0ms)
  --output-tokens N         tokens per answer: min(N, max_new_tokens), ending in EOS when fewer (default max_new_tokens)
  --default-max-new-tokens N   when a request does not say (default 100)
  --error-rate F            fraction (0.01 or 1%) failing with a generation error (424, or an event mid-stream)
  --overload-rate F         fraction refused as overloaded (429, or an event in a 200 stream, as TGI)
  --max-concurrent N        TGI's --max-concurrent-requests: past it, overloaded (default 100000)
  --seed N                  for jitter and injected errors (default 1)
`,
  'plain-proxy': `Usage: npm run bench -- plain-proxy --target URL [--port N] [--host H]

A minimal node:http reverse proxy (keep-alive agent, request and response piped): the overhead baseline.
`,
  report: `Usage: npm run bench -- report result.json [--out report.html]

Draws the offline HTML report again from a result file (run, sweep or overhead).
`,
};

export function helpFor(command: string): string {
  return TEXT[command] ?? TEXT.main!;
}
