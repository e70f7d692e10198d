"""What the class's line (gateway/queue.py) costs a request when nobody has to wait.

One request at a time, interleaved (so a change in the machine's load hits every target alike):
straight to the upstream (``imagewidgets serve --require-api-key``), through a gateway with no key
limit (the line's fast path), and through a gateway with a key limit it never reaches (the line
counts every request into its window). Each gateway is its own process, as in a class. Reported:
p50/p99 latency of each and what each gateway adds to the direct request at p50/p99; then, in
process, the line's own ``wait`` on its fast path (microseconds a request).

The target of issue 29: the gateway adds under 10 ms at p99 one request at a time with no limit.

``--baseline-src FOLDER`` adds a gateway run from another checkout (one without the line, e.g. the
main branch before it) as a fourth target: what the line adds, measured in the same run.

Run: ``python bench/bench_gateway_queue.py [--requests 300] [--baseline-src ../main] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_gateway import BODY, CLI, KEY, start  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def gateway(up_url: str, folder: Path, name: str, extra: list[str],
            src: str | None = None) -> tuple[subprocess.Popen, str, str]:
    db = folder / f"{name}.sqlite3"
    subprocess.run([CLI, "gateway", "participants", "--db", str(db), "add", "1", "--budget-usd", "10000",
                    "--out", str(folder / f"{name}.csv")], check=True, capture_output=True)
    token = next(csv.DictReader(open(folder / f"{name}.csv")))["token"]
    proc, url = start(["gateway", "--upstream", up_url, "--db", str(db), "--port", "0", "--requests-per-minute", "0",
                       "--concurrent", "0", *extra],
                      env={"OPENAI_API_KEY": KEY, **({"PYTHONPATH": src} if src else {})})
    return proc, url, token


async def fast_path_us(limit: int | None, rounds: int = 20000) -> float:
    """Microseconds per ``FairQueue.wait`` when the request may go at once."""
    from imagewidgets.gateway.queue import FairQueue, KeyLimits

    limits = KeyLimits(images_per_minute=limit, window_s=60.0)
    line = FairQueue(lambda: limits)
    started = time.perf_counter()
    for i in range(rounds):
        await line.wait(line.ticket(i % 40, "p", images=1))
    return (time.perf_counter() - started) / rounds * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=300, help="requests to each target")
    ap.add_argument("--baseline-src", default=None, help="a checkout whose gateway has no line (e.g. main)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-gateway-queue-"))
    upstream, up_url = start(["serve", "--port", "0", "--quiet", "--require-api-key", KEY])
    plain, plain_url, plain_token = gateway(up_url, folder, "plain", [])
    limited, limited_url, limited_token = gateway(up_url, folder, "limited", ["--images-per-minute", "1000000"])
    targets = {"direct": (up_url, KEY), "gateway, no limit": (plain_url, plain_token),
               "gateway, limit not reached": (limited_url, limited_token)}
    procs = [plain, limited, upstream]
    if args.baseline_src:
        base_proc, base_url, base_token = gateway(up_url, folder, "baseline", [], src=args.baseline_src)
        targets["gateway without the line"] = (base_url, base_token)
        procs.insert(0, base_proc)
    times: dict[str, list[float]] = {name: [] for name in targets}
    load = os.getloadavg()[0]
    try:
        clients = {name: httpx2.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
                   for name, (url, token) in targets.items()}
        for name, c in clients.items():  # warm up: connections, imports, first drawings
            for _ in range(5):
                c.post("/images/generations", json=BODY).raise_for_status()
        for _ in range(args.requests):
            for name, c in clients.items():
                t0 = time.perf_counter()
                r = c.post("/images/generations", json=BODY)
                times[name].append(time.perf_counter() - t0)
                if r.status_code != 200:
                    raise SystemExit(f"{name}: {r.status_code} {r.text[:200]}")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
    base = times["direct"]
    print(f"{args.requests} requests to each target, one at a time, interleaved; loopback; load average "
          f"{load:.1f} on {os.cpu_count()} cores")
    print(f"{'':28} {'p50 ms':>8} {'p99 ms':>8} {'added p50':>10} {'added p99':>10}")
    report = {}
    for name, values in times.items():
        row = {"p50_ms": pct(values, 0.5) * 1e3, "p99_ms": pct(values, 0.99) * 1e3,
               "added_p50_ms": (pct(values, 0.5) - pct(base, 0.5)) * 1e3,
               "added_p99_ms": (pct(values, 0.99) - pct(base, 0.99)) * 1e3,
               "mean_ms": statistics.fmean(values) * 1e3}
        report[name] = row
        print(f"{name:28} {row['p50_ms']:8.1f} {row['p99_ms']:8.1f} {row['added_p50_ms']:10.1f} "
              f"{row['added_p99_ms']:10.1f}")
    none_us, limit_us = asyncio.run(fast_path_us(None)), asyncio.run(fast_path_us(1_000_000))
    print(f"the line's wait, in process: {none_us:.1f} us a request with no limit, {limit_us:.1f} us with a limit "
          "not reached")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "load_average": load, "targets": report,
                       "fast_path_us": {"no_limit": none_us, "limit_not_reached": limit_us}}, f, indent=2)


if __name__ == "__main__":
    main()
