"""Screen readers get words for every picture: in a real JupyterLab, each image the package shows
(previews, an original in full, grids, the variants widget, history and lineage thumbnails) is an
<img> whose alt is the picture's prompt, and the HTML export read in the browser has alt text on
every image too."""

from __future__ import annotations

from pathlib import Path

import pytest

from .harness import assert_no_cell_problems, open_notebook, run_all, wait_for_file, wait_for_widget, wait_kernel_ready

pytestmark = pytest.mark.browser

NOTEBOOK = Path(__file__).parent / "notebooks" / "alt_text.ipynb"
PROMPTS = ("a red fox in the snow", "an owl on a branch", "three paper kites", "two penguins")

IMAGES = """
(cellIndex) => {
    const cells = document.querySelectorAll('.jp-Notebook .jp-Cell');
    return Array.from(cells[cellIndex].querySelectorAll('.jp-OutputArea-output img'))
        .map(img => ({alt: img.getAttribute('alt'), loaded: img.complete && img.naturalWidth > 0}));
}
"""


def images_of(page, cell: int) -> list[dict]:
    page.locator(".jp-Notebook .jp-Cell").nth(cell).scroll_into_view_if_needed()
    page.wait_for_function(f"() => document.querySelectorAll('.jp-Notebook .jp-Cell')[{cell}]"
                           ".querySelectorAll('.jp-OutputArea-output img').length > 0", timeout=60_000)
    page.wait_for_function(f"() => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell')[{cell}]"
                           ".querySelectorAll('.jp-OutputArea-output img')).every(i => i.complete)", timeout=60_000)
    return page.evaluate(IMAGES, cell)


def test_every_image_shown_has_alt_text_from_its_prompt(page, lab):
    notebook = open_notebook(page, lab, NOTEBOOK, dest="alt/alt_text.ipynb")
    wait_kernel_ready(page)
    assert run_all(page, timeout=120), "JupyterLab reports a failed cell"
    assert_no_cell_problems(page)
    expected = {1: ["a red fox in the snow"], 2: ["an owl on a branch"], 3: ["three paper kites"] * 2,
                4: ["two penguins"] * 2}
    for cell, alts in expected.items():  # previews, the original in full, a grid, the variants widget
        shown = images_of(page, cell)
        assert [i["alt"] for i in shown] == alts, (cell, shown)
        assert all(i["loaded"] for i in shown), (cell, shown)
    for cell in (5, 6):  # the history table and the lineage tree: a thumbnail per turn, each with alt
        shown = images_of(page, cell)
        assert len(shown) >= 5 and all(i["alt"] for i in shown), (cell, shown)  # the kites are one turn
        assert {i["alt"] for i in shown} == set(PROMPTS), (cell, shown)
    report = wait_for_file(notebook.parent / "alt_report.html")
    exported = page.context.new_page()
    try:
        exported.goto(report.resolve().as_uri())
        alts = exported.evaluate("() => Array.from(document.images).map(i => i.getAttribute('alt'))")
    finally:
        exported.close()
    assert len(alts) == 11 and all(alts), alts  # 5 tree thumbnails, 6 pictures (the kites are two)
    assert set(alts) == set(PROMPTS), alts
