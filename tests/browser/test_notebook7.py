"""The widgets in Notebook 7 (`jupyter notebook`, prebuilt widget extensions, headless Chromium):
the studio renders, a Generate click adds a thumbnail, a drag on a MaskPainter paints its mask.

One notebook (`notebooks/notebook7_widgets.ipynb`) is opened and run once for the module; each
test then works on its own widget and asserts on what the kernel wrote (evidence files).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from .harness import (
    DEFAULT_TIMEOUT,
    assert_no_cell_problems,
    drag,
    open_notebook,
    run_all,
    wait_for_file,
    wait_for_widget,
    wait_kernel_ready,
)

pytestmark = pytest.mark.browser

NOTEBOOK = Path(__file__).parent / "notebooks" / "notebook7_widgets.ipynb"
SCREENSHOTS = Path(__file__).parent / "screenshots"
TYPED = "a paper boat on a puddle"
# The painter shows a 512x384 image at 256x192 with a 16 px brush: 32 image pixels wide.
IMAGE_SIZE, VIEW_SIZE, BRUSH = (512, 384), (256, 192), 16
STROKE = [(30, 40), (150, 110), (220, 60)]  # canvas pixels, bent so the moves matter


@pytest.fixture(scope="module")
def notebook7_page(browser, notebook7):
    """One page on the Notebook 7 server for the module; its kernels stop afterwards."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(DEFAULT_TIMEOUT * 1000)
    page = context.new_page()
    yield page
    context.close()
    notebook7.shutdown_kernels()


@pytest.fixture(scope="module")
def notebook(notebook7_page, notebook7) -> Path:
    """The fixture notebook, opened in Notebook 7 and run top to bottom; its path on disk."""
    page = notebook7_page
    copied = open_notebook(page, notebook7, NOTEBOOK, dest="notebook7/notebook7_widgets.ipynb")
    wait_kernel_ready(page)  # pitfall 1: "idle" shows before the kernel is connected
    assert run_all(page, timeout=60), "Notebook 7 reports a failed cell"
    assert_no_cell_problems(page)
    return copied


def read_json(path: Path) -> dict:
    return json.loads(wait_for_file(path).read_text())


def click_centre(page, locator) -> None:
    """A real mouse click (move, press, release) at the centre of the element."""
    locator.scroll_into_view_if_needed()  # the notebook scrolls inside the page
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not rendered"
    page.mouse.click(found["x"] + found["width"] / 2, found["y"] + found["height"] / 2)


def test_the_page_is_notebook_7(notebook7_page, notebook):
    name, version = notebook7_page.evaluate(
        "() => [window.jupyterapp.name, window.jupyterapp.version]"
    )
    assert name == "Jupyter Notebook" and version.startswith("7."), (name, version)
    assert notebook7_page.url.split("?")[0].endswith("/notebooks/notebook7/notebook7_widgets.ipynb")


def test_the_studio_renders(notebook7_page, notebook):
    page = notebook7_page
    studio = wait_for_widget(page, ".iw-studio")
    wait_for_widget(page, ".iw-studio .iw-prompt textarea")
    generate = wait_for_widget(page, ".iw-studio button.iw-generate")
    assert generate.inner_text().strip() == "Generate" and generate.is_enabled()
    for cls in ("iw-model", "iw-size", "iw-quality", "iw-cost", "iw-gallery"):
        wait_for_widget(page, f".iw-studio .{cls}")
    wait_for_widget(page, ".iw-studio .iw-thumb")
    text = page.locator(".jp-Notebook").inner_text()
    assert "Error displaying widget" not in text and "Error rendering" not in text, text[-2000:]
    SCREENSHOTS.mkdir(exist_ok=True)
    studio.scroll_into_view_if_needed()
    studio.screenshot(path=str(SCREENSHOTS / "notebook7_studio.png"))


def test_a_generate_click_adds_a_thumbnail(notebook7_page, notebook):
    page = notebook7_page
    thumbs = page.locator(".iw-studio .iw-thumb")
    wait_for_widget(page, ".iw-studio .iw-thumb")
    before = thumbs.count()
    prompt = wait_for_widget(page, ".iw-studio .iw-prompt textarea")
    prompt.fill("")
    prompt.click()
    page.keyboard.type(TYPED)

    click_centre(page, wait_for_widget(page, ".iw-studio button.iw-generate"))

    page.wait_for_function(
        "(n) => document.querySelectorAll('.iw-studio .iw-thumb').length > n", arg=before
    )
    turns = read_json(notebook.parent / "notebook7.turns.json")["turns"]
    assert [(t["kind"], t["prompt"], t["status"]) for t in turns] == [
        ("generate", TYPED, "completed")
    ], turns
    assert turns[0]["gallery_thumbs"] == before + 1 == thumbs.count(), (turns, before)
    assert page.locator(".iw-studio .iw-error").inner_text() == ""


def test_a_drag_on_the_mask_painter_paints_the_kernel_side_mask(notebook7_page, notebook):
    from PIL import Image

    page = notebook7_page
    canvas = wait_for_widget(page, ".iw-mask-painter canvas")
    # shown at the view size, with 2 canvas pixels per CSS pixel (the painter's default pixel_ratio)
    shown = canvas.evaluate("(c) => { const r = c.getBoundingClientRect(); return [r.width, r.height]; }")
    assert tuple(round(v) for v in shown) == VIEW_SIZE, shown
    assert tuple(canvas.evaluate("(c) => [c.width, c.height]")) == (2 * VIEW_SIZE[0], 2 * VIEW_SIZE[1])

    drag(page, canvas, [(2 * x, 2 * y) for x, y in STROKE], steps=6)  # canvas pixels

    evidence = read_json(notebook.parent / "notebook7.mask.json")
    assert evidence["ups"] == 1 and evidence["errors"] == [], evidence
    assert evidence["mode"] == "RGBA" and tuple(evidence["size"]) == IMAGE_SIZE, evidence
    alpha = Image.open(notebook.parent / "mask.png").getchannel("A")
    scale = IMAGE_SIZE[0] / VIEW_SIZE[0]
    path = [(x * scale, y * scale) for x, y in STROKE]
    radius = BRUSH / 2 * scale
    under = [(round(x), round(y)) for x, y in along(path, 4)]
    assert [p for p in under if alpha.getpixel(p) != 0] == [], "pixels under the stroke kept"
    far = [
        (x, y)
        for x in range(0, IMAGE_SIZE[0], 8)
        for y in range(0, IMAGE_SIZE[1], 8)
        if distance_to_path(x, y, path) > radius * 1.5
    ]
    assert len(far) > 1000 and [p for p in far if alpha.getpixel(p) != 255] == []
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "notebook7_mask.png"))


def along(path, step: float):
    """Points every `step` pixels along the polyline `path`."""
    for (ax, ay), (bx, by) in zip(path, path[1:]):
        n = max(1, int(math.hypot(bx - ax, by - ay) // step))
        for i in range(n + 1):
            yield ax + (bx - ax) * i / n, ay + (by - ay) * i / n


def distance_to_path(x: float, y: float, path) -> float:
    best = math.inf
    for (ax, ay), (bx, by) in zip(path, path[1:]):
        dx, dy = bx - ax, by - ay
        t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
        best = min(best, math.hypot(x - (ax + t * dx), y - (ay + t * dy)))
    return best
