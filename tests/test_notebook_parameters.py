"""Notebook 05 is parameterised for papermill: run with other prompts, model, budget and a run name
of any text, it makes that experiment (and sessions and store folders take such names cleanly)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from imagewidgets import ParamError, Session

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "05-costs-and-sweeps.ipynb"


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


def test_notebook_05_has_a_parameters_cell_with_the_experiments_knobs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    [cell] = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    names = {}
    exec(cell.source, {}, names)  # plain assignments, as papermill expects
    assert set(names) == {"model", "prompts", "budget_usd", "run_name"}


@pytest.mark.slow
def test_papermill_runs_notebook_05_with_other_parameters(tmp_path, monkeypatch):
    import papermill

    store = tmp_path / "store"
    monkeypatch.setenv("IMAGEWIDGETS_STORE", str(store))
    out = tmp_path / "heron.ipynb"
    name = "Q3 run: hérons / ../../etc"
    papermill.execute_notebook(
        str(NOTEBOOK), str(out), kernel_name="python3", cwd=str(NOTEBOOK.parent), progress_bar=False,
        parameters={"model": "gpt-image-2.6-sunburst", "prompts": ["a heron, ink", "a crane, ink", "a wren, ink"],
                    "budget_usd": 0.04, "run_name": name})
    nb = nbformat.read(out, as_version=4)
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    texts = "\n".join(_text(c) for c in nb.cells)
    assert "<SweepResult 12 cells over prompt, size, quality: 12 ok (0 replayed)" in texts
    assert "a crane, ink" in texts and "a fox, woodcut" not in texts
    assert "of the $0.04 budget is left" in texts
    assert f"session {name!r}: $" in texts
    # the notebook removes its temporary store folder at the end; nothing was written outside the store
    assert all(p.resolve().is_relative_to(store.resolve()) for p in store.rglob("*"))


@pytest.mark.parametrize("name", ["Q3 run: hérons / ../../etc", "..", "a\nb", 2024, "x" * 200])
def test_a_session_takes_any_text_or_number_as_its_name(tmp_path, name):
    s = Session(name, folder=tmp_path / "runs" / "2024-06" / "exp 1")
    assert s.name == str(name) and s.store.folder == (tmp_path / "runs" / "2024-06" / "exp 1").resolve()
    folder = s.store.image_path(type("T", (), {"id": "turn_0123456789ab", "session": s.name})(), 0, "png").parent
    assert folder.parent == s.store.folder / "images" and ".." not in folder.name and "/" not in folder.name


@pytest.mark.parametrize("name", ["", "   ", None, 1.5, "x" * 201, "a\x00b"])
def test_a_session_name_that_is_not_text_is_refused(tmp_path, name):
    with pytest.raises(ParamError, match="1 to 200 characters"):
        Session(name, folder=tmp_path)
