# scripts/load_test.py — the performance guide's Locust scenario: 50 users, spawn 5/s, think time 1-3 s, qwen2 and
# llama3 mixed 4:4, the four scenario prompts, max_new_tokens 64 or 128, temperature 0.7 or 0.9, top_p 0.9.
# Made strict where the guide was loose:
#   - an answer counts as a success only if it is a 200 with a generated_text (the guide's catch_response block
#     passed any status Locust itself did not flag), and a failure names the gateway's error_type;
#   - requests are named per model (`/v1/generate qwen2`), so Locust's table splits by model like the metrics do;
#   - P99 is reported and charted next to P95;
#   - a headless run writes complete final stats at exit: Locust's --csv files are written every second and can miss
#     the last requests, so the quitting listener rewrites <prefix>_stats.csv / _failures.csv and adds
#     <prefix>_final.json; it always prints a one-line summary.
#
#   cd scripts && locust -f load_test.py                     # web UI on :8089, 50 users / 5 per s from locust.conf
#   /usr/bin/python3 -m locust -f scripts/load_test.py --config scripts/locust.conf --headless -t 60s \
#       --stop-timeout 30 --csv results/locust                 # headless, final stats in results/locust_*
# A gateway with API keys: SLUICE_API_KEY=sk-sluice-... locust ...  (sent as Authorization: Bearer).
import csv
import json
import os
import random

from locust import HttpUser, between, events, stats, task

stats.PERCENTILES_TO_CHART = [0.50, 0.95, 0.99]
stats.PERCENTILES_TO_REPORT = [0.50, 0.66, 0.75, 0.80, 0.90, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0]


class LLMUser(HttpUser):
    host = "http://localhost:8000"
    wait_time = between(1, 3)  # 用户间隔 1-3 秒

    # 模拟不同场景的输入
    prompts = {
        "qa": "光合作用的原理是什么？",
        "chat": "请用中文介绍你自己。",
        "summarize": "人工智能是计算机科学的一个分支，旨在创建能够执行通常需要人类智能的任务的系统……",
        "rewrite": "这个产品非常好，大家都很喜欢。",
    }

    def on_start(self):
        key = os.environ.get("SLUICE_API_KEY")
        if key:
            self.client.headers["Authorization"] = f"Bearer {key}"

    @task(4)
    def generate_qwen2(self):
        self._send_request("qwen2")

    @task(4)
    def generate_llama3(self):
        self._send_request("llama3")

    def _send_request(self, model_id, extra=None):
        scenario = random.choice(["qa", "chat", "summarize", "rewrite"])
        prompt = self.prompts[scenario]

        payload = {
            "model_id": model_id,
            "inputs": prompt,
            "scenario": scenario,
            "parameters": {
                "max_new_tokens": random.choice([64, 128]),
                "temperature": random.choice([0.7, 0.9]),
                "top_p": 0.9,
            },
        }
        if extra:
            payload.update(extra)

        with self.client.post("/v1/generate", json=payload, name=f"/v1/generate {model_id}", catch_response=True) as resp:
            if resp.status_code != 200:
                # One line per kind of failure in Locust's error table: the status and the gateway's error_type.
                resp.failure(f"HTTP {resp.status_code} {_error_type(resp)}".rstrip())
                return
            try:
                body = resp.json()
            except ValueError:
                resp.failure("HTTP 200 with a body that is not JSON")
                return
            if not isinstance(body, dict) or "generated_text" not in body:
                resp.failure("HTTP 200 without generated_text")
                return
            resp.success()


def _error_type(resp):
    try:
        return resp.json().get("error_type", "")
    except (ValueError, AttributeError):
        return ""


def _entry_summary(entry):
    return {
        "name": entry.name,
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "requests_per_s": entry.total_rps,
        "avg_ms": entry.avg_response_time,
        "min_ms": entry.min_response_time,
        "max_ms": entry.max_response_time,
        # Locust keeps response times rounded (to 2 significant digits above 100 ms): these are approximations.
        "percentiles_ms": {f"p{q * 100:g}": entry.get_response_time_percentile(q) for q in (0.5, 0.9, 0.95, 0.99)},
    }


@events.quitting.add_listener
def write_final_stats(environment, **_kwargs):
    total = environment.stats.total
    if total.num_requests:
        error_rate = total.num_failures / total.num_requests
        p = {q: total.get_response_time_percentile(q) for q in (0.5, 0.95, 0.99)}
        print(
            f"final: {total.num_requests} requests, {total.num_failures} failures ({error_rate:.2%}), "
            f"{total.total_rps:.2f} req/s, P50 {p[0.5]:.0f} ms, P95 {p[0.95]:.0f} ms, P99 {p[0.99]:.0f} ms",
            flush=True,
        )
    prefix = getattr(environment.parsed_options, "csv_prefix", None) if environment.parsed_options else None
    if not prefix:
        return
    writer = stats.StatsCSV(environment, stats.PERCENTILES_TO_REPORT)
    with open(f"{prefix}_stats.csv", "w", newline="") as f:
        writer.requests_csv(csv.writer(f))
    with open(f"{prefix}_failures.csv", "w", newline="") as f:
        writer.failures_csv(csv.writer(f))
    final = {
        "total": _entry_summary(total),
        "entries": [_entry_summary(e) for e in environment.stats.entries.values()],
        "errors": [{"name": e.name, "error": str(e.error), "occurrences": e.occurrences} for e in environment.stats.errors.values()],
    }
    with open(f"{prefix}_final.json", "w") as f:
        json.dump(final, f, indent=2, ensure_ascii=False)
