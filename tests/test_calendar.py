"""The calendar sweep: every date-sensitive text and path, on every date the model table names.

On each shutdown date in the table, the day before and the day after each, and a year after the
suite's pinned date, a fresh process (``IMAGEWIDGETS_TODAY`` set to that day, as a user's kernel
would be on it) renders what a user reads: ``%imagine?`` / ``%edit?``, the studio's notes and
tooltips for every model it offers, ``imagewidgets models`` and the lifecycle table; it runs each
magic on its defaults against the embedded twin (which keeps the same calendar) and, on the
shutdown dates themselves and a year ahead, the demo. Nothing may crash, and no text may suggest a
model that is shut down on that day.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from datetime import date, timedelta

import pytest

from imagewidgets.api.models import MODELS, RESPONSES_MODEL_SHUTDOWNS
from tests.conftest import PINNED_TODAY

SHUTDOWN_DATES = sorted({s.shutdown_date for s in MODELS.values() if s.shutdown_date}
                        | {d for d, _ in RESPONSES_MODEL_SHUTDOWNS.values()})


def _sweep_dates() -> list[tuple[str, bool]]:
    """(day, run the demo too): each shutdown date and its neighbours, and a year from the pinned day."""
    days: dict[str, bool] = {}
    for d in SHUTDOWN_DATES:
        day = date.fromisoformat(d)
        for delta in (-1, 0, 1):
            key = (day + timedelta(days=delta)).isoformat()
            days[key] = days.get(key, False) or delta == 0
    days[(PINNED_TODAY + timedelta(days=365)).isoformat()] = True
    return sorted(days.items())


_SCRIPT = textwrap.dedent(r'''
    import contextlib, io, json, sys, warnings
    from pathlib import Path

    out = {"texts": {}, "labels": {}, "rows": [], "magics": {}, "demo": None}
    warnings.simplefilter("ignore")

    from IPython.core.interactiveshell import InteractiveShell
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "imagewidgets")
    for name in ("imagine", "edit", "imagine_config"):
        fn = shell.find_line_magic(name)
        out["texts"][f"%{name}?"] = (fn.__doc__ or "") + "\n" + fn.parser.format_help()

    # the magics on their defaults, against the embedded twin (same calendar): nothing refused
    for line in ("imagine a red fox in the snow", "edit give the fox a blue scarf",
                 "imagine a lighthouse --api images", "edit add a boat --api images"):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            value = shell.run_line_magic(*line.split(" ", 1))
        out["magics"][line] = {"ok": value is not None, "stderr": err.getvalue()}

    # the studio: every model it offers, its note and every control's tooltip
    from imagewidgets.widgets.studio import ImageStudio
    from imagewidgets.api.lifecycle import lifecycle_of, today
    studio = ImageStudio()
    out["labels"] = {value: label for label, value in studio.model.options}
    for label, value in studio.model.options:
        if lifecycle_of(value).status_on(today()) == "shut down":
            continue  # chosen on purpose: its own tooltip names it as shut down (checked via labels)
        studio.model.value = value
        tips, todo, seen = [], [studio], set()
        while todo:  # every widget of the studio: its tooltip, and a dropdown's labels
            w = todo.pop()
            if id(w) in seen:
                continue
            seen.add(id(w))
            tip = getattr(w, "tooltip", None)
            if isinstance(tip, str) and tip and w is not studio.model:
                tips.append(tip)
            opts = getattr(w, "options", None)
            if w is not studio.model and isinstance(opts, (tuple, list)):
                tips.extend(str(o) for o in opts)
            todo.extend(c for c in getattr(w, "children", ()) if c is not None)
        out["texts"][f"studio[{value}]"] = studio.note.value + "\n" + "\n".join(tips)
    out["texts"]["studio responses_model"] = "\n".join(str(o) for o in studio.responses_model.options)

    # imagewidgets models, and the table behind it
    from imagewidgets.cli import main
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["models"])
    out["models_cli"] = {"code": code, "text": buf.getvalue()}
    from imagewidgets.api.lifecycle import lifecycle_table
    out["rows"] = lifecycle_table()

    if sys.argv[1] == "demo":
        from imagewidgets.demo import run_demo
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            written = run_demo(Path(sys.argv[2]))
        out["demo"] = {"images": len(written["images"]), "text": buf.getvalue()}
    print("@@RESULT@@" + json.dumps(out))
''')


def _name_re(name: str) -> re.Pattern:
    # a whole model name: "gpt-image-1" is not found inside "gpt-image-1.5" nor "gpt-image-2" in "gpt-image-2.5-x"
    return re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])")


def _dead_on(day: date) -> list[str]:
    from imagewidgets.api.lifecycle import lifecycle_of

    names = list(MODELS) + list(RESPONSES_MODEL_SHUTDOWNS)
    return [n for n in names if lifecycle_of(n).status_on(day) == "shut down"]


@pytest.mark.slow
@pytest.mark.parametrize("day,demo", _sweep_dates(), ids=[d for d, _ in _sweep_dates()])
def test_no_text_suggests_a_model_that_is_shut_down_that_day(day, demo, tmp_path):
    env = {**os.environ, "IMAGEWIDGETS_TODAY": day, "IMAGEWIDGETS_OFFLINE_PARTIAL_INTERVAL_S": "0",
           "IMAGEWIDGETS_HOME": str(tmp_path / "home"), "IMAGEWIDGETS_STORE": str(tmp_path / "store")}
    proc = subprocess.run([sys.executable, "-c", _SCRIPT, "demo" if demo else "-", str(tmp_path / "demo")],
                          env=env, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    out = json.loads(proc.stdout.split("@@RESULT@@", 1)[1])
    the_day = date.fromisoformat(day)
    dead = _dead_on(the_day)

    # the texts a user reads offer no model the API no longer serves
    for where, text in out["texts"].items():
        for name in dead:
            assert not _name_re(name).search(text), f"{day}: {where} names {name}, shut down that day:\n{text}"
    # the studio marks a shut-down model as such, and offers every live one plainly
    for value, label in out["labels"].items():
        assert ("(shut down)" in label) == (value in dead), (day, value, label)
    # the magics' defaults are accepted by the client and served by the twin on every day
    for line, result in out["magics"].items():
        assert result["ok"] and "Error" not in result["stderr"], (day, line, result)
    # imagewidgets models and the lifecycle table: statuses as of the day, replacements that are live
    assert out["models_cli"]["code"] == 0
    for row in out["rows"]:
        status = "shut down" if row["model"] in dead else None
        if status:
            assert row["status"] == "shut down", (day, row)
        if row["replacement"]:
            assert row["replacement"] not in dead, f"{day}: {row['model']} points at {row['replacement']}, shut down"
    for name in dead:
        line = next((ln for ln in out["models_cli"]["text"].splitlines() if ln.split()[:1] == [name]), None)
        if line is not None:
            assert "shut down" in line, (day, line)
    if demo:
        assert out["demo"]["images"] == 6, out["demo"]  # 2 + 1 streamed + a 3-turn story
        assert "Error" not in out["demo"]["text"]


def test_the_sweep_covers_every_shutdown_date_its_neighbours_and_a_year_ahead():
    days = [d for d, _ in _sweep_dates()]
    for d in ("2026-12-01", "2026-11-30", "2026-12-02", "2026-12-11", "2027-01-14", "2027-01-15"):
        assert d in days
    assert (PINNED_TODAY + timedelta(days=365)).isoformat() in days


# --------------------------------------------------------------------------- one clock
def test_imagewidgets_today_sets_the_date_for_the_whole_package(monkeypatch):
    from imagewidgets.api import lifecycle

    monkeypatch.setenv("IMAGEWIDGETS_TODAY", "2026-11-30")
    assert lifecycle.today() == date(2026, 11, 30)
    assert lifecycle.is_live("gpt-image-1.5") and "gpt-image-1.5" in lifecycle.live_model_names("edits")
    monkeypatch.setenv("IMAGEWIDGETS_TODAY", "2026-12-01")
    assert not lifecycle.is_live("gpt-image-1.5") and "gpt-image-1.5" not in lifecycle.live_model_names("edits")
    assert lifecycle.is_live("gpt-image-2") and lifecycle.is_live("a-model-the-table-does-not-know")


def test_a_malformed_imagewidgets_today_is_refused_naming_the_variable(monkeypatch):
    from imagewidgets.api import lifecycle

    monkeypatch.setenv("IMAGEWIDGETS_TODAY", "tomorrow; rm -rf /")
    with pytest.raises(ValueError, match=r"IMAGEWIDGETS_TODAY='tomorrow; rm -rf /' is not a date like 2026-12-02"):
        lifecycle.today()


def test_the_suite_pins_the_date_for_the_processes_it_starts():
    assert os.environ["IMAGEWIDGETS_TODAY"] == PINNED_TODAY.isoformat()
    code = "from imagewidgets.api.lifecycle import today; print(today())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout.strip()
    assert out == PINNED_TODAY.isoformat()


@pytest.mark.today("2027-01-15")
def test_a_test_about_a_day_says_so_with_a_marker():
    from imagewidgets.api.lifecycle import today

    assert today() == date(2027, 1, 15) and os.environ["IMAGEWIDGETS_TODAY"] == "2027-01-15"


def test_only_one_function_reads_the_system_date():
    """``_utc_today`` in api/lifecycle.py is the package's only reader of today's date."""
    from pathlib import Path

    import imagewidgets

    pattern = re.compile(r"date\.today\(|datetime\.now\(|datetime\.utcnow\(|datetime\.today\(|"
                         r"strftime\(\"%Y-%m-%d\"|date\.fromtimestamp\(time\.time")
    found = []
    for path in Path(imagewidgets.__file__).parent.rglob("*.py"):
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                found.append(f"{path.name}:{i}: {line.strip()}")
    # not a calendar date: the twin's test certificate is valid from the system clock's moment, which the C2PA
    # verifier compares against (a rehearsed IMAGEWIDGETS_TODAY must not make its signatures invalid)
    moments = [f for f in found if f.startswith("provenance.py:") and "start = datetime.now(timezone.utc)" in f]
    found = [f for f in found if f not in moments]
    assert len(moments) <= 1
    assert len(found) == 1 and found[0].startswith("lifecycle.py:") and "datetime.now(timezone.utc)" in found[0], found


# --------------------------------------------------------------------------- the twin's calendar
def test_the_twin_refuses_a_model_shut_down_today_naming_the_replacement(offline_server):
    """`imagewidgets serve` on 2026-12-01 (the suite's clock says 2026-12-02: the same answer)."""
    import httpx2

    srv = offline_server()
    r = httpx2.post(srv.base_url + "/images/generations", json={"model": "gpt-image-1.5", "prompt": "a fox"},
                    timeout=30)
    assert r.status_code == 404
    err = r.json()["error"]
    assert err["code"] == "model_not_found" and err["param"] == "model"
    assert "gpt-image-2.6-sunburst" in err["message"] and "2026-12-01" in err["message"]
    served = {m["id"] for m in httpx2.get(srv.base_url + "/models", timeout=30).json()["data"]}
    assert "gpt-image-1.5" not in served and "gpt-image-2.6-sunburst" in served


def test_serve_on_2026_12_01_answers_gpt_image_1_5_with_404_naming_the_replacement(tmp_path):
    """The CLI as a user starts it, on the day the models shut down."""
    import socket
    import time

    import httpx2

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "IMAGEWIDGETS_TODAY": "2026-12-01"}
    proc = subprocess.Popen([sys.executable, "-m", "imagewidgets.cli", "serve", "--port", str(port), "--quiet"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path)
    try:
        url = f"http://127.0.0.1:{port}/v1"
        for _ in range(200):
            try:
                httpx2.get(url + "/models", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        r = httpx2.post(url + "/images/generations", json={"model": "gpt-image-1.5", "prompt": "a fox"}, timeout=30)
        assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
        assert "Use gpt-image-2.6-sunburst instead" in r.json()["error"]["message"]
        ok = httpx2.post(url + "/images/generations", json={"model": "gpt-image-2.6-sunburst", "prompt": "a fox"},
                         timeout=60)
        assert ok.status_code == 200
    finally:
        proc.terminate()
        proc.wait(10)


def test_calendar_off_serves_every_model_and_as_of_rehearses_another_day(offline_server):
    import httpx2

    old = offline_server(calendar=False)
    r = httpx2.post(old.base_url + "/images/generations", json={"model": "dall-e-3", "prompt": "a fox"}, timeout=60)
    assert r.status_code == 200
    before = offline_server(as_of="2026-11-30")
    r = httpx2.post(before.base_url + "/images/generations", json={"model": "gpt-image-1.5", "prompt": "a fox"},
                    timeout=60)
    assert r.status_code == 200


def test_calendar_switches_from_the_environment_and_the_command_line():
    from imagewidgets.offline.cli import build_parser, config_from_args
    from imagewidgets.offline.config import OfflineConfig

    assert OfflineConfig.from_env({"IMAGEWIDGETS_OFFLINE_CALENDAR": "off"}).calendar_day() is None
    assert OfflineConfig().calendar_day() == PINNED_TODAY.isoformat()
    assert OfflineConfig(as_of="2027-01-15").calendar_day() == "2027-01-15"
    with pytest.raises(ValueError, match="IMAGEWIDGETS_OFFLINE_CALENDAR='maybe' is not a boolean"):
        OfflineConfig.from_env({"IMAGEWIDGETS_OFFLINE_CALENDAR": "maybe"})
    args = build_parser().parse_args(["--calendar", "off"])
    assert config_from_args(args).calendar is False


def test_replay_of_a_stored_turn_of_a_retired_model_needs_no_backend(tmp_path, monkeypatch):
    """An old session made on 2026-11-15 with gpt-image-1.5 replays at $0 after the shutdown."""
    from imagewidgets import Client, Session

    monkeypatch.setenv("IMAGEWIDGETS_TODAY", "2026-11-15")
    s = Session("old", folder=tmp_path / "store", client=Client(base_url="offline"))
    first = s.imagine("a lighthouse", model="gpt-image-1.5", quality="low", api="images")
    s.client.close()  # a pooled socket left to the garbage collector would warn in a later test
    monkeypatch.setenv("IMAGEWIDGETS_TODAY", "2026-12-02")
    s2 = Session("old", folder=tmp_path / "store", client=Client(base_url="offline"))
    again = s2.imagine("a lighthouse", model="gpt-image-1.5", quality="low", api="images")
    assert s2.current.status == "replayed" and again.data == first.data
    s2.client.close()
