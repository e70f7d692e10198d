"""The harness works end to end: a plain ipycanvas notebook renders and its kernel sees drags."""

from __future__ import annotations

import io
import json
import math
import sys
from pathlib import Path

import pytest

from .harness import (
    assert_no_cell_problems,
    drag,
    open_notebook,
    run_all,
    wait_for_file,
    wait_for_widget,
    wait_kernel_ready,
)

pytestmark = pytest.mark.browser

NOTEBOOK = Path(__file__).parent / "notebooks" / "smoke_canvas.ipynb"
SCREENSHOTS = Path(__file__).parent / "screenshots"
# Canvas coordinates (the 400x300 drawing buffer, shown at 500x375 CSS px).
DRAG = [(40, 40), (200, 80), (360, 260)]
QUADRANTS = {  # point to sample -> RGB the notebook paints there
    (100, 75): (220, 30, 30),
    (300, 75): (30, 160, 60),
    (100, 225): (40, 70, 220),
    (300, 225): (240, 200, 20),
}


def run_smoke_notebook(page, lab, folder: str):
    notebook = open_notebook(page, lab, NOTEBOOK, dest=f"{folder}/smoke_canvas.ipynb")
    wait_kernel_ready(page)
    assert run_all(page), "JupyterLab reports a failed cell"
    canvas = wait_for_widget(page, "canvas", cell=3)  # cells: intro, imports, image, handlers
    assert_no_cell_problems(page)
    return notebook, canvas


def distance_to_path(x: float, y: float, path) -> float:
    """Shortest distance from (x, y) to the polyline through `path`."""
    best = math.inf
    for (ax, ay), (bx, by) in zip(path, path[1:]):
        dx, dy = bx - ax, by - ay
        t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
        best = min(best, math.hypot(x - (ax + t * dx), y - (ay + t * dy)))
    return best


def test_drag_on_canvas_reaches_kernel_handlers(page, lab):
    notebook, canvas = run_smoke_notebook(page, lab, "drag")

    drag(page, canvas, DRAG)

    evidence = json.loads(wait_for_file(notebook.parent / "smoke_canvas.events.json").read_text())
    events = evidence["events"]
    kinds = [e["event"] for e in events]
    assert kinds.count("down") == 1 and kinds.count("up") == 1, kinds
    down, up = kinds.index("down"), kinds.index("up")
    assert down < up and up == len(kinds) - 1, kinds
    pressed_moves = events[down + 1 : up]
    assert len(pressed_moves) >= 5, kinds

    def at(event, point):
        return math.hypot(event["x"] - point[0], event["y"] - point[1]) <= 2

    assert at(events[down], DRAG[0]), events[down]
    assert at(events[up], DRAG[-1]), events[up]
    assert any(at(move, DRAG[1]) for move in pressed_moves), "no move reached the middle point"
    assert all(distance_to_path(m["x"], m["y"], DRAG) <= 2 for m in pressed_moves), pressed_moves


def test_kernel_runs_in_the_isolated_environment(page, lab):
    notebook, canvas = run_smoke_notebook(page, lab, "environment")
    drag(page, canvas, [(10, 10), (20, 20)])

    evidence = json.loads(wait_for_file(notebook.parent / "smoke_canvas.events.json").read_text())
    assert evidence["python"] == sys.executable
    assert evidence["imagewidgets_home"] == str(lab.imagewidgets_home)
    assert evidence["openai_api_key_set"] is False


def test_canvas_pixels_are_visible_in_a_screenshot(page, lab):
    from PIL import Image

    _, canvas = run_smoke_notebook(page, lab, "screenshot")
    SCREENSHOTS.mkdir(exist_ok=True)
    canvas.scroll_into_view_if_needed()  # the notebook scrolls inside the page, not the page
    page.screenshot(path=str(SCREENSHOTS / "smoke.png"), full_page=True)

    shot = Image.open(io.BytesIO(canvas.screenshot())).convert("RGB")
    # The element is scaled from 400x300: sample quadrant centres, away from edges.
    sx, sy = shot.width / 400, shot.height / 300
    for (x, y), rgb in QUADRANTS.items():
        pixel = shot.getpixel((int(x * sx), int(y * sy)))
        assert all(abs(a - b) <= 3 for a, b in zip(pixel, rgb)), (x, y, pixel, rgb)
