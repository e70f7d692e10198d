"""Fixtures for the class gateway's tests: real upstreams (``imagewidgets serve --require-api-key`` in
subprocesses on loopback) and gateways in front of them.

- ``UPSTREAM_KEY``: the teacher's key; the tests grep for it everywhere.
- ``upstreams``: module-wide upstream servers by name ("plain", "limited", "failing", "cutting"),
  started in parallel on first use.
- ``gateway``: a factory of started ``GatewayServer``s on the "plain" upstream (or another).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

__all__ = ["UPSTREAM_KEY", "upstreams", "gateway", "cli", "start_process", "read_ready_line"]

UPSTREAM_KEY = "sk-teacher-0123456789-SECRET-abcdefghij"
CLI = str(Path(sys.executable).with_name("imagewidgets"))

UPSTREAM_SWITCHES = {
    "plain": [],
    "limited": ["--rate-limit", "1", "--rate-window", "60"],
    "failing": ["--fail-rate", "1"],
    "cutting": ["--cut-stream-after", "2"],
}


def start_process(args: list[str], env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def read_ready_line(proc: subprocess.Popen, pattern: str = r"(https?://\S+/v1)") -> tuple[str, str]:
    """The first stdout line (the process prints it once it accepts requests) and the URL in it."""
    line = proc.stdout.readline()
    m = re.search(pattern, line)
    if not m:
        proc.kill()
        raise RuntimeError(f"no ready line: {line!r} {proc.stderr.read()!r}")
    return line, m.group(1)


class _Upstreams:
    def __init__(self) -> None:
        self.procs: dict[str, subprocess.Popen] = {}
        self.urls: dict[str, str] = {}

    def start(self, names: list[str]) -> None:
        new = [n for n in names if n not in self.procs]
        for name in new:  # start them all, then wait: the imports overlap
            self.procs[name] = start_process(["serve", "--port", "0", "--require-api-key", UPSTREAM_KEY,
                                              *UPSTREAM_SWITCHES[name]])
        for name in new:
            self.urls[name] = read_ready_line(self.procs[name])[1]

    def __getitem__(self, name: str) -> str:
        if name not in self.urls:
            self.start([name])
        return self.urls[name]

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="module")
def upstreams():
    running = _Upstreams()
    yield running
    running.stop()


@pytest.fixture
def gateway(upstreams, tmp_path):
    """``gateway(upstream="plain", **rules)`` -> a started GatewayServer with a fresh SQLite file."""
    from imagewidgets.gateway import ClassRules, GatewayServer

    started: list[Any] = []

    def start(upstream: str = "plain", db: Path | None = None, **rules: Any) -> GatewayServer:
        rules = {"requests_per_minute": None, "concurrent": None, **rules}
        server = GatewayServer(upstreams[upstream], api_key=UPSTREAM_KEY, rules=ClassRules(**rules),
                               db=db or tmp_path / f"gateway-{len(started)}.sqlite3").start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def cli(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
