"""Sweeps: a grid of prompts x parameters, concurrent, stored cell by cell, replayed when repeated."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from imagewidgets import AsyncClient, BudgetExceededError, Client, ParamError, Session
from imagewidgets.offline.config import OfflineConfig
from imagewidgets.offline.server import OfflineServer
from imagewidgets.session.sweep import SweepResult, grid_cells
from tests.wire import AsyncRecordingTransport

#: real-size pictures (a 1024x1024 PNG ~2.2 MB) from every twin these tests talk to: sweeps and
#: batches store them and must hold paths, not pictures (tests/fixtures_offline.py)
pytestmark = pytest.mark.pictures("realistic")


@pytest.fixture
def server():
    with OfflineServer(OfflineConfig.from_env(latency_s=0.15)) as srv:
        yield srv


@pytest.fixture
def recorded(server, tmp_path):
    """A session whose sweeps go through recording async transports (one per sweep)."""
    transports: list[AsyncRecordingTransport] = []

    def factory() -> AsyncClient:
        transports.append(AsyncRecordingTransport())
        return AsyncClient(base_url=server.base_url, transport=transports[-1])

    s = Session("grid", folder=tmp_path / "store", client=Client(base_url=server.base_url), async_client=factory)
    return s, transports


def test_grid_cells_vary_prompts_slowest():
    varying, cells = grid_cells(["a", "b"], {"size": ["1024x1024", "1536x1024"], "quality": "low"})
    assert varying == ["prompt", "size"]
    assert [(c["prompt"], c["size"]) for c in cells] == [("a", "1024x1024"), ("a", "1536x1024"),
                                                        ("b", "1024x1024"), ("b", "1536x1024")]
    assert all(c["quality"] == "low" for c in cells)


def test_a_sweep_stores_every_cell_as_a_turn(recorded):
    s, transports = recorded
    grid = s.sweep(prompts=["a fox", "an owl"], size=["1024x1024", "1536x1024"], quality=["low", "medium"],
                   concurrency=4, progress=False)
    assert isinstance(grid, SweepResult) and len(grid.rows) == 8 and len(transports[0].calls) == 8
    assert [t.id for t in s.turns] == [r["turn_id"] for r in grid.rows]
    for row, turn in zip(grid.rows, grid.turns):
        assert row["status"] == "completed" and Path(row["path"]).is_file() and row["cost_usd"] > 0
        assert (turn.prompt, turn.params["size"], turn.params["quality"]) == (row["prompt"], row["size"],
                                                                            row["quality"])
        assert turn.image.size == row["size"]
    assert s.current is None  # a sweep does not move the chain
    assert grid.cost_usd == pytest.approx(s.spent_usd)


def test_concurrency_is_bounded(recorded):
    s, transports = recorded
    s.sweep(prompts=[f"picture {i}" for i in range(8)], quality="low", size="1024x1024", concurrency=3,
            progress=False)
    assert transports[0].max_in_flight == 3


def test_a_repeated_sweep_is_replayed_without_http(recorded):
    s, transports = recorded
    first = s.sweep(prompts=["a fox", "an owl"], size=["1024x1024", "1536x1024"], quality="low", progress=False)
    second = s.sweep(prompts=["a fox", "an owl"], size=["1024x1024", "1536x1024"], quality="low", progress=False)
    assert len(transports[1].calls) == 0
    assert [r["status"] for r in second.rows] == ["replayed"] * 4 and second.cost_usd == 0
    assert [r.data for r in second.results] == [r.data for r in first.results]


def test_a_sweep_works_inside_a_running_event_loop(recorded):
    s, transports = recorded

    async def in_a_kernel():  # a Jupyter kernel runs cells while its loop is running
        return s.sweep(prompts=["a kite", "a boat"], quality="low", size="1024x1024", progress=False)

    grid = asyncio.run(in_a_kernel())
    assert [r["status"] for r in grid.rows] == ["completed", "completed"]


def test_a_failed_cell_is_reported_and_the_others_complete(recorded):
    s, _ = recorded
    grid = s.sweep(prompts=["a kite", "something forbidden"], quality="low", size="1024x1024", progress=False)
    ok, blocked = grid.rows
    assert ok["status"] == "completed" and ok["error"] is None
    assert blocked["status"] == "failed" and "moderation" in blocked["error"].lower()
    assert s.turn(blocked["turn_id"]).status == "failed"
    assert "forbidden" in grid._repr_html_()


def test_the_budget_covers_the_whole_grid_before_anything_is_sent(recorded):
    s, transports = recorded
    s.budget_usd = 0.02  # four low 1024x1024 gpt-image-2 images: 4 x 196 tokens x $30/1M = $0.0235
    with pytest.raises(BudgetExceededError):
        s.sweep(prompts=["a", "b", "c", "d"], quality="low", size="1024x1024", progress=False)
    assert transports == [] and s.turns == []


def test_invalid_cells_are_refused_before_anything_is_sent(recorded):
    s, transports = recorded
    with pytest.raises(ParamError):
        s.sweep(prompts=["a"], size=["1024x1024", "999x7"], quality="low", progress=False)
    assert transports == [] and s.turns == []


def test_progress_is_a_text_line_outside_a_kernel(recorded, capsys):
    s, _ = recorded
    s.sweep(prompts=["a", "b"], quality="low", size="1024x1024")
    assert "sweep 2/2" in capsys.readouterr().out


def test_the_grid_displays_labelled_thumbnails(recorded):
    s, _ = recorded
    grid = s.sweep(prompts=["a fox", "an owl"], size=["1024x1024", "1536x1024"], quality="low", progress=False)
    markup = grid._repr_html_()
    assert markup.count("<img") == 4 and "size=1536x1024" in markup and "an owl" in markup
    assert "4 cells" in repr(grid)


def test_rows_become_a_dataframe_when_pandas_is_installed(recorded):
    pd = pytest.importorskip("pandas")
    s, _ = recorded
    df = s.sweep(prompts=["a", "b"], quality="low", size="1024x1024", progress=False).to_pandas()
    assert isinstance(df, pd.DataFrame) and list(df["prompt"]) == ["a", "b"]


def test_the_default_async_client_uses_the_sessions_backend(session):
    grid = session.sweep(prompts=["a fox"], quality="low", size="1024x1024", progress=False)
    assert grid.rows[0]["status"] == "completed" and grid.turns[0].backend == "offline"


def test_progress_is_a_widget_in_a_kernel(recorded, monkeypatch):
    import types

    import IPython
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: types.SimpleNamespace(kernel=object()))
    monkeypatch.setattr(IPython.display, "display", lambda *objs: shown.extend(objs))
    s, _ = recorded
    s.sweep(prompts=["a", "b", "c"], quality="low", size="1024x1024")
    (box,) = shown
    bar, label = box.children
    assert (bar.value, bar.max, label.value, bar.bar_style) == (3, 3, "3/3", "success")


def test_without_pandas_to_pandas_says_how_to_get_it_and_the_rows_stay(recorded, monkeypatch):
    import sys

    s, _ = recorded
    grid = s.sweep(prompts=["a"], quality="low", size="1024x1024", progress=False)
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    with pytest.raises(ImportError, match=r"pip install pandas .*\.rows"):
        grid.to_pandas()
    with pytest.raises(ImportError, match="pip install pandas"):
        s.history().to_pandas()
    assert grid.rows[0]["prompt"] == "a" and len(s.history().rows) == 1
