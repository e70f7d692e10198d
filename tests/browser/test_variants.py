"""Variants in a real JupyterLab: ``%imagine -n 3`` shows one grid with a "continue from" button
under each image; clicking the second one makes it the base of the next ``%edit``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .harness import (assert_no_cell_problems, open_notebook, run_all, run_new_cell, wait_for_file, wait_for_widget,
                      wait_kernel_ready)

pytestmark = pytest.mark.browser

NOTEBOOKS = Path(__file__).parent / "notebooks"


def read_json(path: Path) -> dict:
    return json.loads(wait_for_file(path).read_text())


def test_pick_a_variant_in_the_grid_and_continue_from_it(page, lab):
    notebook = open_notebook(page, lab, NOTEBOOKS / "variants_pick.ipynb", dest="variants/variants_pick.ipynb")
    wait_kernel_ready(page)
    assert run_all(page, timeout=90), "JupyterLab reports a failed cell"
    assert_no_cell_problems(page)
    variants = read_json(notebook.parent / "variants.json")
    ids = [v["id"] for v in variants["variants"]]
    assert len(ids) == 3 and variants["current"] == ids[0], variants

    grid = wait_for_widget(page, ".iw-variant-grid")
    pictures = grid.locator("img")
    assert pictures.count() == 3
    for i in range(3):
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=pictures.nth(i).element_handle())
    buttons = grid.locator("button.iw-variant-pick")
    assert buttons.all_inner_texts() == ["continue from #1", "continue from #2", "continue from #3"]
    assert "mod-success" in (buttons.nth(0).get_attribute("class") or "")  # the first is current

    buttons.nth(1).scroll_into_view_if_needed()
    buttons.nth(1).click()  # a real click in the browser
    page.wait_for_function("(b) => b.classList.contains('mod-success')", arg=buttons.nth(1).element_handle())
    assert "mod-success" not in (buttons.nth(0).get_attribute("class") or "")
    assert "continues from #2" in grid.locator(".iw-variant-status").inner_text()

    assert run_new_cell(page, "%edit add a small pond -q low -s 512x512") is not False
    turns = read_json(notebook.parent / "turns.json")["turns"]
    edit = turns[-1]
    assert edit["kind"] == "edit" and edit["status"] == "completed", turns
    assert edit["parent_id"] == ids[1], (edit, ids)  # continued from the clicked variant
    assert edit["previous_response_id"] == variants["variants"][1]["response_id"], edit
    assert_no_cell_problems(page)
