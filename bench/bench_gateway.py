"""The class gateway under a class's load: 40 simulated participants for a fixed time on loopback.

Two phases in the same run, same load: participants call the upstream directly (the baseline), then
through the gateway. The upstream is ``imagewidgets serve --require-api-key`` and the gateway is
``imagewidgets gateway`` (each its own process, as in a class). Each participant loops for
``--seconds``: a non-streamed request, a think pause, a streamed one (two partial images), a pause.

Reported: requests served per phase; p50/p99 latency of both kinds and what the gateway adds
(difference and ratio to the baseline); time to the first streamed frame and what the gateway adds;
the gateway's resident memory sampled every second (start, peak, end); the CPU time the gateway spends
per request against the upstream's (a same-run baseline that does not depend on how busy the machine
is: on a shared, oversubscribed machine every extra process hop waits for the scheduler, and the
added latency grows with the load average, which is printed).

Run: ``python bench/bench_gateway.py [--participants 40] [--seconds 20] [--think 1.0] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2

KEY = "sk-bench-upstream-key"
CLI = str(Path(sys.executable).with_name("imagewidgets"))
#: a small image: the upstream's drawing (CPU on a shared machine) would otherwise hide the gateway's part
BODY = {"model": "gpt-image-2", "prompt": "a lighthouse at dusk", "size": "256x256", "quality": "low"}


def start(args: list[str], env: dict | None = None) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, **(env or {})})
    line = proc.stdout.readline()
    m = re.search(r"(http://\S+/v1)", line)
    if not m:
        proc.kill()
        raise SystemExit(f"did not start: {line!r}")
    return proc, m.group(1)


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used (from /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def participant(http: Any, base: str, token: str, until: float, think: float, rng: random.Random,
                      out: list[dict]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    await asyncio.sleep(rng.uniform(0, think))  # participants do not all start at the same instant
    while time.perf_counter() < until:
        t = time.perf_counter()
        try:
            r = await http.post(base + "/images/generations", json=BODY, headers=headers)
            status = r.status_code
        except httpx2.TransportError:  # counted as a failure (status 0), the participant goes on
            status = 0
        out.append({"kind": "json", "status": status, "s": time.perf_counter() - t})
        await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
        if time.perf_counter() >= until:
            break
        t = time.perf_counter()
        first = None
        try:
            async with http.stream("POST", base + "/images/generations", headers=headers,
                                   json={**BODY, "stream": True, "partial_images": 2}) as r:
                async for chunk in r.aiter_raw():
                    if first is None and b"partial_image" in chunk:
                        first = time.perf_counter() - t
            status = r.status_code
        except httpx2.TransportError:
            status = 0
        out.append({"kind": "stream", "status": status, "s": time.perf_counter() - t, "first": first})
        await asyncio.sleep(rng.uniform(0.5, 1.5) * think)


async def phase(base: str, tokens: list[str], seconds: float, think: float, watch_pid: int | None) -> dict:
    out: list[dict] = []
    memory: list[float] = []
    until = time.perf_counter() + seconds
    # idle connections dropped before the servers' 5 s keep-alive timeout closes them under a request
    limits = httpx2.Limits(max_connections=len(tokens) * 2, max_keepalive_connections=len(tokens) * 2,
                           keepalive_expiry=2.0)

    async def sample() -> None:
        while time.perf_counter() < until + 5:
            memory.append(rss_mb(watch_pid))
            await asyncio.sleep(1.0)

    async with httpx2.AsyncClient(timeout=120, limits=limits) as http:
        sampler = asyncio.create_task(sample()) if watch_pid else None
        await asyncio.gather(*(participant(http, base, tok, until, think, random.Random(i), out)
                               for i, tok in enumerate(tokens)))
        if sampler:
            sampler.cancel()
    return {"requests": out, "memory_mb": memory}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def summary(run: dict) -> dict:
    ok = [r for r in run["requests"] if r["status"] == 200]
    js = [r["s"] for r in ok if r["kind"] == "json"]
    st = [r["s"] for r in ok if r["kind"] == "stream"]
    ff = [r["first"] for r in ok if r["kind"] == "stream" and r["first"] is not None]
    failed = sorted({r["status"] for r in run["requests"] if r["status"] != 200})
    return {"served": len(ok), "failed": len(run["requests"]) - len(ok), "failed_statuses": failed,
            "json_p50": pct(js, 0.5), "json_p99": pct(js, 0.99), "stream_p50": pct(st, 0.5),
            "stream_p99": pct(st, 0.99), "first_frame_p50": pct(ff, 0.5), "first_frame_p99": pct(ff, 0.99)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--participants", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--think", type=float, default=1.0, help="mean pause between a participant's requests (s)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    db = folder / "class.sqlite3"
    subprocess.run([CLI, "gateway", "participants", "--db", str(db), "add", str(args.participants),
                    "--budget-usd", "10000", "--out", str(folder / "class.csv")], check=True, capture_output=True)
    tokens = [row["token"] for row in csv.DictReader(open(folder / "class.csv"))]
    upstream, up_url = start(["serve", "--port", "0", "--require-api-key", KEY, "--partial-interval", "0.05"])
    gateway, gw_url = start(["gateway", "--upstream", up_url, "--db", str(db), "--port", "0",
                             "--requests-per-minute", "0", "--concurrent", "0"], env={"OPENAI_API_KEY": KEY})
    load = os.getloadavg()[0]
    try:
        up0 = cpu_s(upstream.pid)
        direct = asyncio.run(phase(up_url, [KEY] * args.participants, args.seconds, args.think, None))
        up1, gw1 = cpu_s(upstream.pid), cpu_s(gateway.pid)
        through = asyncio.run(phase(gw_url, tokens, args.seconds, args.think, gateway.pid))
        up2, gw2 = cpu_s(upstream.pid), cpu_s(gateway.pid)
    finally:
        for proc in (gateway, upstream):
            proc.terminate()
            proc.wait(10)
    d, g = summary(direct), summary(through)
    mem = through["memory_mb"]
    up_cpu = (up1 - up0 + up2 - up1) / max(1, d["served"] + g["served"]) * 1e3
    gw_cpu = (gw2 - gw1) / max(1, g["served"]) * 1e3
    print(f"{args.participants} participants, {args.seconds:g}s per phase, think {args.think:g}s, loopback, "
          f"load average {load:.1f} on {os.cpu_count()} cores")
    print(f"{'':22} {'direct':>10} {'gateway':>10} {'added':>10} {'ratio':>7}")
    print(f"{'requests served':22} {d['served']:10d} {g['served']:10d} {g['served'] - d['served']:10d} "
          f"{g['served'] / max(1, d['served']):7.2f}")
    print(f"{'failed':22} {d['failed']:10d} {g['failed']:10d}   statuses {d['failed_statuses']} {g['failed_statuses']}")
    for key, label in [("json_p50", "json p50 ms"), ("json_p99", "json p99 ms"), ("stream_p50", "stream p50 ms"),
                       ("stream_p99", "stream p99 ms"), ("first_frame_p50", "first frame p50 ms"),
                       ("first_frame_p99", "first frame p99 ms")]:
        print(f"{label:22} {d[key] * 1e3:10.1f} {g[key] * 1e3:10.1f} {(g[key] - d[key]) * 1e3:10.1f} "
              f"{g[key] / d[key]:7.2f}")
    print(f"CPU per request: gateway {gw_cpu:.1f} ms, upstream {up_cpu:.1f} ms (drawing a 256x256 image); "
          f"ratio {gw_cpu / up_cpu:.2f}")
    print(f"gateway memory MB: start {mem[0]:.1f}, peak {max(mem):.1f}, end {mem[-1]:.1f} "
          f"(every second: {', '.join(f'{m:.0f}' for m in mem)})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "load_average": load, "direct": d, "gateway": g, "gateway_memory_mb": mem,
                       "gateway_cpu_ms_per_request": gw_cpu, "upstream_cpu_ms_per_request": up_cpu}, f, indent=2)


if __name__ == "__main__":
    main()
