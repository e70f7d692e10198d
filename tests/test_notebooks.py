"""The tutorial notebooks, beyond what nbval checks.

nbval (``--nbval-lax``, see ``[tool.pytest.ini_options]``) runs every notebook in ``notebooks/`` top
to bottom on the offline backend and compares the cells marked ``# NBVAL_CHECK_OUTPUT`` with their
saved outputs, after ``notebooks/sanitize.cfg``. These tests check that the saved notebooks are fit
for that and for readers: executed in order (an unrun cell is never compared), enough checked
cells, small, no temp paths or keys, and nothing volatile left in a checked output once sanitized.

After changing a notebook or a behaviour it shows, re-execute and save it (same environment as the
tests: data folders in a temp dir, no OPENAI_* variables; temp paths scrubbed from the outputs)::

    .venv/bin/python tests/test_notebooks.py                 # all notebooks
    .venv/bin/python tests/test_notebooks.py 03-multi-turn   # some
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SANITIZE = NOTEBOOKS / "sanitize.cfg"
PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
EXPECTED = ["01-quickstart", "02-edits-and-masks", "03-multi-turn", "04-streaming-and-studio",
            "05-costs-and-sweeps", "06-workshop-offline", "07-characters-and-storyboards"]
MAX_BYTES = 3 * 1024 * 1024
CHECK = "# NBVAL_CHECK_OUTPUT"
#: what must not survive sanitizing in a checked output (it would differ on the next run)
VOLATILE = re.compile(r"turn_[0-9a-f]{12}|req_[0-9a-f]{16}|resp_[0-9a-f]{16}|127\.0\.0\.1:\d|/tmp/|/var/folders/")
_ENV_VARS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID")


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _code(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def _texts(cell) -> list[str]:
    """The text of a cell's outputs as nbval compares them (streams, text/plain, text/html, ...)."""
    out = []
    for o in cell.outputs:
        if o.output_type == "stream":
            out.append(o.text)
        elif "data" in o:
            out += [v for k, v in o.data.items() if isinstance(v, str) and not k.startswith("image/")
                    and "widget" not in k]
        elif o.output_type == "error":
            out.append(o.evalue)
    return out


def _sanitizers() -> list[tuple[str, str]]:
    from nbval.plugin import get_sanitize_patterns

    return get_sanitize_patterns(SANITIZE.read_text())


def test_the_six_tutorials_are_there():
    assert [p.stem for p in PATHS] == EXPECTED


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_saved_executed_top_to_bottom_without_errors(path):
    counts = [c.execution_count for c in _code(_read(path))]
    assert counts == list(range(1, len(counts) + 1)), "re-run: python tests/test_notebooks.py " + path.stem
    assert not [o for c in _code(_read(path)) for o in c.outputs if o.output_type == "error"]


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_a_tutorial_has_8_to_20_code_cells_and_at_least_3_checked(path):
    cells = _code(_read(path))
    checked = [c for c in cells if c.source.lstrip().startswith(CHECK)]
    # 05 teaches costs, budgets, sweeps, batches and model migration: it may run a little longer
    assert 8 <= len(cells) <= (25 if path.stem.startswith("05") else 20)
    assert len(checked) >= 3
    assert all(_texts(c) for c in checked), "a checked cell with no text output checks nothing"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_small_with_no_temp_paths_or_keys(path):
    text = re.sub(r"[A-Za-z0-9+/=]{200,}", "", path.read_text())  # image bytes may spell anything
    assert path.stat().st_size < MAX_BYTES
    assert "/tmp/" not in text and "/var/folders/" not in text and "imagewidgets-notebooks-" not in text
    assert not re.search(r"sk-(proj-)?[A-Za-z0-9]{20,}", text)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_checked_outputs_hold_nothing_volatile_once_sanitized(path):
    patterns = _sanitizers()
    for cell in _code(_read(path)):
        if cell.source.lstrip().startswith(CHECK):
            for text in _texts(cell):
                for regex, replace in patterns:
                    text = re.sub(regex, replace, text)
                assert not VOLATILE.search(text), f"{path.stem}: {cell.source.splitlines()[1]!r}: {text[:300]}"


def test_the_quickstart_opens_by_saying_pictures_come_from_an_offline_renderer_not_ai():
    first = _read(NOTEBOOKS / "01-quickstart.ipynb").cells[0]
    assert first.cell_type == "markdown"
    assert "offline" in first.source and "not AI" in first.source


def test_the_quickstart_story_is_told_with_magics():
    sources = [c.source for c in _code(_read(NOTEBOOKS / "01-quickstart.ipynb"))]
    magic_cells = [s for s in sources if re.search(r"^\s*(\w+ = )?%{1,2}\w", s, re.M)]
    for needed in ("%load_ext imagewidgets", "%imagine", "= %imagine", "%%imagine", "%imagine_history"):
        assert any(needed in s for s in magic_cells), needed
    assert sum(s.replace(CHECK, "").lstrip().startswith("%edit") for s in sources) >= 3, "a three-cell %edit chain"


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_a_tutorial_that_makes_a_scratch_folder_removes_it_at_the_end(path):
    """Running the tutorials leaves no temporary folders behind (the last code cell removes the one
    the first made; anything else they write goes inside it)."""
    sources = [c.source for c in _code(_read(path))]
    made = sum(s.count("mkdtemp(") + s.count("TemporaryDirectory(") for s in sources)
    if made:
        assert made == 1 and "shutil.rmtree(folder" in sources[-1], path.stem


# -- regenerating the saved outputs --------------------------------------------------------------


def regenerate(names: list[str] | None = None, timeout: int = 300) -> None:
    """Execute notebooks as the tests do and save them with their outputs, temp paths scrubbed."""
    from nbclient import NotebookClient

    sys.path.insert(0, str(NOTEBOOKS.parent))
    from tests.conftest import PINNED_TODAY

    run_dir = tempfile.mkdtemp(prefix="imagewidgets-notebooks-")
    os.environ["IMAGEWIDGETS_TODAY"] = PINNED_TODAY.isoformat()  # the suite's day: outputs stay stable
    for var in _ENV_VARS:
        os.environ.pop(var, None)
    os.environ["IMAGEWIDGETS_HOME"] = os.path.join(run_dir, "home")
    os.environ["IMAGEWIDGETS_STORE"] = os.path.join(run_dir, "store")
    scrub = [(os.path.join(run_dir, "store"), "$IMAGEWIDGETS_STORE"),
             (os.path.join(run_dir, "home"), "$IMAGEWIDGETS_HOME"), (run_dir, "$TMPDIR")]
    for path in PATHS:
        if names and path.stem not in names and path.name not in names:
            continue
        nb = _read(path)
        NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
        text = json.dumps(nb)
        for old, new in scrub:
            text = text.replace(old, new)
        nbformat.write(nbformat.from_dict(json.loads(text)), path)
        print(f"{path.name}: {path.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    regenerate(sys.argv[1:])
