"""The test suite as a contributor meets it in a terminal: the quick run the README documents
leaves out the browser and slow tests, and a skipped test says why without naming a folder of
this machine."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(?:[\w.-]+/)+[\w.-]*")  # /usr/bin/x, /tmp/y/z


def test_the_quick_run_is_documented_and_selects_neither_browser_nor_slow_tests():
    readme = REPO.joinpath("README.md").read_text(encoding="utf-8")
    assert '-m "not browser and not slow"' in readme
    done = subprocess.run([sys.executable, "-m", "pytest", "-m", "not browser and not slow", "--collect-only", "-q",
                           "-p", "no:cacheprovider", "tests/test_pack.py", "tests/browser/test_alt_text.py",
                           "tests/test_readme.py"], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    chosen = [line for line in done.stdout.splitlines() if "::" in line]
    assert chosen and not any("test_alt_text" in c or "test_readme" in c for c in chosen), done.stdout
    assert not any("test_a_packed_notebook_rerun_elsewhere" in c for c in chosen)  # listed in slow_tests.txt
    assert any("hostile" in c or "forged" in c for c in chosen)  # the fast ones stay


def test_every_listed_slow_test_exists():
    """A renamed test leaves no stale line in slow_tests.txt (it would silently join the quick run)."""
    listed = [line.strip() for line in REPO.joinpath("tests", "slow_tests.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    for nodeid in listed:
        path, name = nodeid.split("::", 1)
        assert f"def {name.split('[', 1)[0]}(" in REPO.joinpath(path).read_text(encoding="utf-8"), nodeid


def test_the_browser_skip_reason_names_no_absolute_path(monkeypatch, tmp_path):
    from tests.browser import conftest as browser_conftest, harness

    monkeypatch.setattr(harness, "CHROMIUM", str(tmp_path / "no-chromium-here"))
    reason = browser_conftest._browser_unavailable()
    assert reason and "chromium" in reason.lower() and not ABSOLUTE_PATH.search(reason), reason


def test_the_fuzz_skip_reason_names_no_absolute_path(monkeypatch, tmp_path):
    from tests import test_fuzz_openapi
    from tests.spec import trim_openapi

    monkeypatch.setattr(trim_openapi, "SHARED", tmp_path / "missing" / "openapi.yaml")
    with pytest.raises(pytest.skip.Exception) as skipped:
        test_fuzz_openapi.test_the_vendored_description_is_the_shared_one_trimmed()
    assert "OpenAPI" in str(skipped.value) and not ABSOLUTE_PATH.search(str(skipped.value)), skipped.value
