"""Every ```python block of the README runs as pasted, in order, in one fresh kernel, as a new user
tries them (offline: no key); snippets that are not meant to run are shown as text or a diff."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
BLOCK = re.compile(r"^( *)```(\w*)\n(.*?)^\1```", re.S | re.M)

pytestmark = pytest.mark.slow


def blocks(language: str) -> list[str]:
    return [body for _, lang, body in BLOCK.findall(README.read_text(encoding="utf-8")) if lang == language]


def test_the_readme_has_python_blocks_and_each_is_code_not_a_fragment():
    code = blocks("python")
    assert len(code) >= 8
    for body in code:  # an indented fragment (a field to paste into a class) is shown as a diff instead
        assert not body.startswith((" ", "\t")), body


def test_every_python_block_runs_as_pasted_in_order_in_a_fresh_kernel(tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(b) for b in blocks("python")])
    # IMAGEWIDGETS_HOME / IMAGEWIDGETS_STORE point into this test's folder (conftest): the kernel inherits them
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    problems = []
    for k, cell in enumerate(nb.cells):
        for out in cell.outputs:
            text = "".join(out.get("traceback", [])) + (out.get("text", "") if out.get("name") == "stderr" else "")
            if out.output_type == "error" or "Error" in text:
                problems.append(f"block {k}: {cell.source.splitlines()[0]!r}: {ANSI.sub('', text)[-600:]}")
    assert not problems, "\n".join(problems)
    assert (tmp_path / "kite.png").is_file() and (tmp_path / "harbour.html").is_file()
    shown = [o for c in nb.cells for o in c.outputs if "image/png" in o.get("data", {}) or "image/webp" in o.get("data", {})
             or "text/html" in o.get("data", {})]
    assert len(shown) >= 8  # the magics' pictures, the grid, the history
