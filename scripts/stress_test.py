# scripts/stress_test.py — the performance guide's throughput test (aiohttp, 20 concurrent requests), made strict:
# a non-200 answer is a failure (the guide counted any answer as success), P99 is reported next to P95, tokens are
# the server's own count (usage.output_tokens), and the exit code is non-zero when any request failed.
#
#   /usr/bin/python3 scripts/stress_test.py [--url http://localhost:8000/v1/generate] [--concurrency 20]
# A gateway with API keys: SLUICE_API_KEY=sk-sluice-... /usr/bin/python3 scripts/stress_test.py
import argparse
import asyncio
import math
import os
import sys
import time

import aiohttp

URL = "http://localhost:8000/v1/generate"
PAYLOADS = [
    {
        "model_id": "qwen2",
        "inputs": "请写一首关于春天的诗",
        "scenario": "qa",
        "parameters": {"max_new_tokens": 128},
    },
    {
        "model_id": "llama3",
        "inputs": "Explain quantum mechanics in simple terms",
        "scenario": "qa",
        "parameters": {"max_new_tokens": 128},
    },
]


def percentile(sorted_values, q):
    """Nearest-rank percentile (the value below which q of the samples fall)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


async def send_request(session, url, payload, idx):
    start = time.perf_counter()
    try:
        async with session.post(url, json=payload) as resp:
            result = await resp.json(content_type=None)
            latency = time.perf_counter() - start
            if resp.status != 200:
                print(f"❌ Req-{idx:2d} | {payload['model_id']:6s} | HTTP {resp.status} "
                      f"{result.get('error_type', '')}: {result.get('error', '')} | latency={latency:.2f}s")
                return latency, False, 0
            tokens = result.get("usage", {}).get("output_tokens", 0)
            print(f"✅ Req-{idx:2d} | {payload['model_id']:6s} | tokens={tokens:3d} | latency={latency:.2f}s")
            return latency, True, tokens
    except Exception as e:  # connection refused, reset, bad JSON: all failures
        latency = time.perf_counter() - start
        print(f"❌ Req-{idx:2d} | Error: {e!r} | latency={latency:.2f}s")
        return latency, False, 0


async def main(url, concurrency):
    print(f"🚀 Starting stress test with {concurrency} concurrent requests...\n")
    start_time = time.perf_counter()
    key = os.environ.get("SLUICE_API_KEY")
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with aiohttp.ClientSession(headers=headers) as session:
        tasks = [send_request(session, url, PAYLOADS[i % len(PAYLOADS)], i) for i in range(concurrency)]
        results = await asyncio.gather(*tasks)
    total_time = time.perf_counter() - start_time
    latencies = sorted(r[0] for r in results)
    successes = sum(1 for r in results if r[1])
    tokens = sum(r[2] for r in results)

    print("\n" + "=" * 50)
    print("📊 测试结果汇总")
    print("=" * 50)
    print(f"并发请求数: {concurrency}")
    print(f"总耗时:     {total_time:.2f}s")
    print(f"QPS:        {concurrency / total_time:.2f}")
    print(f"平均延迟:   {sum(latencies) / len(latencies):.2f}s")
    print(f"P50 延迟:   {percentile(latencies, 0.50):.2f}s")
    print(f"P95 延迟:   {percentile(latencies, 0.95):.2f}s")
    print(f"P99 延迟:   {percentile(latencies, 0.99):.2f}s")
    print(f"输出 token: {tokens}")
    print(f"成功率:     {successes / concurrency:.1%}")
    print("=" * 50)
    return successes == concurrency


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=URL)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    sys.exit(0 if asyncio.run(main(args.url, args.concurrency)) else 1)
