"""The ``imagewidgets`` command as a user meets it: in a subprocess, reading what it prints."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx2
import pytest

import imagewidgets


def _exe() -> str:
    return str(Path(sys.executable).with_name("imagewidgets"))


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([_exe(), *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args", [["--help"], ["demo", "--help"], ["serve", "--help"], ["doctor", "--help"],
                                  ["gateway", "--help"]])
def test_help_is_plain_text_without_rest_markup(args):
    out = _run(*args)
    assert out.returncode == 0, out.stderr
    assert "``" not in out.stdout and ":class:" not in out.stdout and ":func:" not in out.stdout
    assert out.stdout.startswith("usage: imagewidgets")


def test_top_level_help_shows_examples():
    text = _run("--help").stdout
    assert "examples:" in text and "imagewidgets serve --port 8765" in text and "--version" in text


def test_version_prints_the_package_version():
    out = _run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"imagewidgets {imagewidgets.__version__}"


def _serve(tmp_path, *flags: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGEWIDGETS_OFFLINE_")}
    env.update(IMAGEWIDGETS_HOME=str(tmp_path / "home"), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([_exe(), "serve", "--port", "0", *flags], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line.rstrip("\n")) for line in proc.stdout], daemon=True).start()
    banner = lines.get(timeout=30)
    url = next(word for word in banner.split() if word.startswith("http://"))
    return proc, lines, url


def _drain(lines: queue.Queue, wait: float) -> list[str]:
    out = []
    try:
        while True:
            out.append(lines.get(timeout=wait))
    except queue.Empty:
        return out


LINE = re.compile(r"^(GET|POST) (\S+) (\d{3}) (\d+) ms (req_[0-9a-f]{32})$")


def test_serve_prints_one_line_per_request(tmp_path):
    proc, lines, url = _serve(tmp_path)
    try:
        r1 = httpx2.get(url + "/models", timeout=30)
        r2 = httpx2.post(url + "/images/generations", json={"prompt": "a kite", "model": "dall-e-9"}, timeout=30)
        r3 = httpx2.get(url.replace("/v1", "") + "/v1/odd%0Aname", timeout=30)
        logged = _drain(lines, 3)
    finally:
        proc.kill()
        proc.wait(10)
    matches = [LINE.match(line) for line in logged]
    assert all(matches) and len(matches) == 3, logged
    assert [(m[1], m[2], int(m[3]), m[5]) for m in matches] == [
        ("GET", "/v1/models", 200, r1.headers["x-request-id"]),
        ("POST", "/v1/images/generations", 404, r2.headers["x-request-id"]),
        ("GET", "/v1/odd\\x0aname", r3.status_code, r3.headers["x-request-id"]),  # one line, escaped
    ]


def test_serve_quiet_prints_only_the_banner(tmp_path):
    proc, lines, url = _serve(tmp_path, "--quiet")
    try:
        assert httpx2.get(url + "/models", timeout=30).status_code == 200
        logged = _drain(lines, 2)
    finally:
        proc.kill()
        proc.wait(10)
    assert logged == []
