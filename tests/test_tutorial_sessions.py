"""Each tutorial keeps its pictures in a session of its own: after a user tried things with the
magics in the same folder (the default session), 01-quickstart's history shows only its own turns.
Run in a real IPython shell from the notebook's own cell sources."""

from __future__ import annotations

import json
import re
from pathlib import Path

from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
MAGIC_CALL = re.compile(r"^%%?(imagine|edit|vary)\b(?!_)", re.M)


def code_cells(name: str) -> list[str]:
    nb = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def test_every_tutorial_names_its_session_before_its_first_picture():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        cells = code_cells(path.name)
        first = next((i for i, src in enumerate(cells) if MAGIC_CALL.search(src)), None)
        if first is None:
            continue  # no magics: its Sessions are named in Python
        named = any("%imagine_config" in src and "--session" in src for src in cells[: first + 1])
        assert named, f"{path.name}: a magic makes a picture before the tutorial names its session"


def _shell() -> InteractiveShell:
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance(config=Config())
    shell.extension_manager.load_extension("imagewidgets")
    return shell


def _close(shell: InteractiveShell) -> None:
    shell.extension_manager.unload_extension("imagewidgets")
    InteractiveShell.clear_instance()


def test_the_quickstart_history_shows_only_its_own_turns(capsys):
    mine = _shell()  # the user tried the README's snippets in this folder first
    try:
        mine.run_cell("%imagine my own cat in a hat -s 512x512 -q low")
    finally:
        _close(mine)
    from imagewidgets.session.session import reset_settings

    reset_settings()  # a new kernel for the tutorial
    cells = code_cells("01-quickstart.ipynb")
    tutorial = _shell()
    try:
        upto = next(i for i, src in enumerate(cells) if "%imagine a lighthouse" in src)
        for src in cells[:upto + 1]:
            assert tutorial.run_cell(src).success, src
        tutorial.run_cell("h = %imagine_history")
        rows = tutorial.user_ns["h"].rows
    finally:
        _close(tutorial)
    assert [r["prompt"] for r in rows] == ["a lighthouse at dusk, watercolour"], rows
    capsys.readouterr()
