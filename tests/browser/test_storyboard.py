"""A storyboard in a real JupyterLab: ``%%storyboard`` shows the strip (three panels, numbered
captions, the pinned character carried by each), and a click on "redo #2" draws panel 2 again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .harness import assert_no_cell_problems, open_notebook, run_all, wait_for_file, wait_for_widget, wait_kernel_ready

pytestmark = pytest.mark.browser

NOTEBOOKS = Path(__file__).parent / "notebooks"

READ_BOARD = """
async () => {
    const app = window.jupyterapp;
    const notebook = app.shell.currentWidget.content;
    notebook.activeCellIndex = notebook.widgets.length - 1;
    await app.commands.execute('notebook:insert-cell-below');
    notebook.activeCell.model.sharedModel.setSource(
        'b = session.storyboards()[-1]\\nwrite_evidence("after.json", {"panels": [p.turn_id for p in b.panels]})');
    return await app.commands.execute('notebook:run-cell');
}
"""


def read_json(path: Path) -> dict:
    return json.loads(wait_for_file(path).read_text())


def test_the_strip_shows_three_pinned_panels_and_redoes_panel_2(page, lab):
    notebook = open_notebook(page, lab, NOTEBOOKS / "storyboard_redo.ipynb", dest="storyboard/storyboard_redo.ipynb")
    wait_kernel_ready(page)
    assert run_all(page, timeout=120), "JupyterLab reports a failed cell"
    assert_no_cell_problems(page)
    board = read_json(notebook.parent / "board.json")
    assert [p["prompt"] for p in board["panels"]] == ["Milo wakes up in a forest", "Milo finds a map",
                                                      "Milo sets sail on the sea"]
    assert board["pins"] == [["Milo"]] * 3

    strip = wait_for_widget(page, ".iw-storyboard")
    pictures = strip.locator(".iw-panel img")
    assert pictures.count() == 3
    for i in range(3):
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=pictures.nth(i).element_handle())
    captions = strip.locator(".iw-panel-caption").all_inner_texts()
    assert [c.strip() for c in captions] == ["1. Milo wakes up in a forest", "2. Milo finds a map",
                                             "3. Milo sets sail on the sea"]
    assert "pins carried: Milo" in strip.inner_text()
    old_src = pictures.nth(1).get_attribute("src")

    redo = strip.locator("button.iw-panel-redo").nth(1)
    assert redo.inner_text().strip() == "redo #2"
    redo.scroll_into_view_if_needed()
    redo.click()  # a real click in the browser
    page.wait_for_function("(el) => el.innerText.includes('panel 2 redrawn')",
                           arg=strip.locator(".iw-storyboard-status").element_handle(), timeout=60_000)
    page.wait_for_function("([img, old]) => img.src !== old && img.complete && img.naturalWidth > 0",
                           arg=[pictures.nth(1).element_handle(), old_src])
    turns = read_json(notebook.parent / "turns.json")["turns"]
    redone = turns[-1]
    assert redone["prompt"] == "Milo finds a map" and redone["status"] == "completed", turns
    assert redone["pins"] == ["Milo (character)"]

    assert page.evaluate(READ_BOARD) is not False
    after = read_json(notebook.parent / "after.json")["panels"]
    before = [p["turn_id"] for p in board["panels"]]
    assert after[0] == before[0] and after[2] == before[2] and after[1] == redone["id"] != before[1]
    assert_no_cell_problems(page)
