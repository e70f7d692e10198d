"""OpenAI's published OpenAPI description as a fuzzer of ``imagewidgets serve`` (issue 12, item 11).

Schemathesis generates valid and invalid requests for the image and file endpoints from
``tests/spec/openapi-images.json`` (the shared description trimmed by ``tests/spec/trim_openapi.py``)
and checks every answer: no server error, every 200 valid against the response schema, and no
request that breaks the schema accepted. Statuses the description does not list (it documents
only 200) are not failures. The run is bounded: a fixed seed, a few examples per operation and a
time budget, well under two minutes.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.spec import trim_openapi
from tests.test_offline_conformance import _serve_command

SPEC = trim_openapi.TRIMMED
CHECKS = "not_a_server_error,response_schema_conformance,negative_data_rejection"
MAX_EXAMPLES = 12
BUDGET_S = 75  # schemathesis's own time budget; the subprocess is killed at BUDGET_S + 45
SEED = 12


def test_the_vendored_description_is_the_shared_one_trimmed():
    """When the shared description sits beside the checkout (as in CI), the copy in the repository
    is exactly its trimmed form: the fuzz test never runs against a stale copy."""
    if not trim_openapi.SHARED.exists():
        pytest.skip("the shared OpenAPI description (../shared/spec/openapi.yaml) is not beside this checkout")
    pytest.importorskip("yaml")
    assert trim_openapi.render(trim_openapi.trim(trim_openapi.load(trim_openapi.SHARED))) == SPEC.read_text("utf-8")


def test_the_vendored_description_covers_the_served_endpoints():
    doc = json.loads(SPEC.read_text("utf-8"))
    assert {p: sorted(m for m in ops if m != "parameters") for p, ops in doc["paths"].items()} == {
        p: sorted(ms) for p, ms in trim_openapi.KEEP.items()}
    assert {"CreateImageRequest", "ImagesResponse", "OpenAIFile"} <= set(doc["components"]["schemas"])


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``imagewidgets serve --port 0`` in a subprocess (the real CLI); yields its base URL."""
    home = tmp_path_factory.mktemp("fuzz-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGEWIDGETS_OFFLINE_")}
    env.update(IMAGEWIDGETS_HOME=str(home), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([*_serve_command(), "--port", "0", "--no-moderation", "--quiet"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    try:
        banner = lines.get(timeout=60)
        yield next(word for word in banner.split() if word.startswith("http://")), lines
    finally:
        proc.kill()
        proc.wait(10)


@pytest.mark.slow
@pytest.mark.timeout(BUDGET_S + 90)
def test_serve_answers_the_official_description(served, tmp_path):
    url, server_log = served
    st = Path(sys.executable).with_name("schemathesis")
    command = [str(st) if st.exists() else "schemathesis", "run", str(SPEC), "--url", url,
               "--checks", CHECKS, "--max-examples", str(MAX_EXAMPLES), "--max-time", str(BUDGET_S),
               "--seed", str(SEED), "--workers", "1", "--request-timeout", "60", "--no-color",
               "--header", "Authorization: Bearer sk-fuzz", "--suppress-health-check", "all",
               "--warnings", "off", "--report", "ndjson", "--report-dir", str(tmp_path)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=BUDGET_S + 45, cwd=tmp_path,
                         env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""})
    log = []
    while not server_log.empty():
        log.append(server_log.get())
    assert run.returncode == 0, (run.stdout[-12000:] + run.stderr[-3000:] + "\nserver log:\n" + "".join(log)[-3000:])
    assert "Tested: 12" in run.stdout  # every operation was exercised
