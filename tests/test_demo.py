"""The README's first command ends in `imagewidgets demo`: it must run offline and leave its files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image


def test_demo_runs_offline_and_writes_images_and_a_report(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["OPENAI_API_KEY"] = "sk-demo-must-not-be-used"  # the demo uses the offline renderer regardless
    exe = Path(sys.executable).with_name("imagewidgets")
    out = subprocess.run([str(exe), "demo", "--out", str(tmp_path / "demo")], env=env, capture_output=True,
                         text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "offline renderer (procedural, not AI)" in out.stdout
    assert "partial 1 of 2" in out.stdout and "partial 2 of 2" in out.stdout
    images = sorted((tmp_path / "demo" / "store").rglob("*.png"))
    assert len(images) >= 6
    assert {Image.open(p).size for p in images} >= {(1536, 1024), (1024, 1024)}
    report = (tmp_path / "demo" / "report.html").read_text()
    assert report.count("data:image/png;base64,") >= 6
    assert "add a small red sailing boat on the water" in report
    data = json.loads((tmp_path / "demo" / "session.json").read_text())
    responses = [t for t in data["turns"] if t.get("response_id")]
    assert len(responses) == 3
    for path in (tmp_path / "demo").rglob("*"):
        if path.is_file():
            assert b"sk-demo-must-not-be-used" not in path.read_bytes(), path


def test_a_second_demo_run_says_it_replayed_from_the_store_and_counts_honestly(tmp_path):
    import re

    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "IMAGEWIDGETS_OFFLINE_"))}
    env["IMAGEWIDGETS_HOME"] = str(tmp_path / "home")
    exe = Path(sys.executable).with_name("imagewidgets")
    runs = [subprocess.run([str(exe), "demo", "--out", str(tmp_path / "demo")], env=env, capture_output=True,
                           text=True, timeout=300, cwd=tmp_path) for _ in range(2)]
    first, second = (r.stdout for r in runs)
    assert all(r.returncode == 0 for r in runs), runs[1].stderr
    # the embedded backend spaces streamed frames (0.3 s by default), so they visibly arrive one by one
    times = [float(t) for t in re.findall(r"partial \d of 2 after ([\d.]+)s", first)]
    assert len(times) == 2 and times[1] - times[0] >= 0.25
    assert "replayed" not in first and "$0.0000" not in first
    assert second.count("replayed from the store, $0") == 7  # 2 images + the stream + 3 story turns + the total
    assert "$0.0000 per" not in second and "partial 1 of 2" not in second
    assert "This run: $0.0000; 5 of 5 requests replayed from the store, $0." in second
    assert "5 requests made for $" in second and "5 replayed" in second
    report = (tmp_path / "demo" / "report.html").read_text()
    assert "10 turns (5 made, 5 replayed from the store at $0)" in report
    assert str(tmp_path / "home" / "offline-state") in second
