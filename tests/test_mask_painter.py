"""MaskPainter, headless: mouse events go in the way ipycanvas delivers them from the browser
(a comm message to the MultiCanvas), and what the browser would receive is read off the comm."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from imagewidgets.api.errors import ParamError
from imagewidgets.api.images import image_bytes
from imagewidgets.widgets import MaskPainter

ipycanvas_canvas = pytest.importorskip("ipycanvas.canvas")
COMMAND_NAMES = {i: name for name, i in ipycanvas_canvas.COMMANDS.items()}


# ---------------------------------------------------------------- helpers
def photo(width=1024, height=768, seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), "RGB")


def browser(painter: MaskPainter, event: str, x: float, y: float) -> None:
    """Deliver a mouse event exactly as the kernel does when the canvas view sends one; ``x, y`` are
    screen (CSS) pixels, sent as ipycanvas does, in canvas pixels (``pixel_ratio`` per CSS pixel)."""
    r = painter.pixel_ratio
    msg = {"content": {"data": {"method": "custom", "content": {"event": event, "x": x * r, "y": y * r}}},
           "buffers": []}
    painter.canvas.comm.handle_msg(msg)


def drag(painter: MaskPainter, *points) -> None:
    (x, y), *rest = points
    browser(painter, "mouse_down", x, y)
    for x, y in rest:
        browser(painter, "mouse_move", x, y)
    browser(painter, "mouse_up", x, y)


def alpha(painter: MaskPainter) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(painter.mask)))[..., 3]


class RecordingComm:
    """Stands in for the canvas manager's comm and keeps every message sent to the browser."""

    kernel = "Truthy"

    def __init__(self, comm_id: str) -> None:
        self.comm_id = comm_id
        self.messages: list[tuple[dict, list]] = []

    def send(self, data=None, metadata=None, buffers=None):
        self.messages.append((data, [bytes(b) for b in buffers or []]))

    def on_msg(self, callback):
        pass

    def draw_commands(self):
        """(canvas model id, command name, args, image buffers) for every command sent."""
        out, canvas = [], None
        for data, buffers in self.messages:
            assert data["method"] == "custom"
            commands = json.loads(buffers[0])
            if commands and isinstance(commands[0], int):  # one command, sent unbatched
                commands = [commands]
            images = iter(buffers[1:])
            for command in commands:
                name, args = COMMAND_NAMES[command[0]], command[1]
                n = command[2] if len(command) > 2 else 0
                if name == "switchCanvas":
                    canvas = args[0].removeprefix("IPY_MODEL_")
                    continue
                out.append((canvas, name, args, [next(images) for _ in range(n)]))
        return out


@pytest.fixture
def wire(monkeypatch):
    manager = ipycanvas_canvas._CANVAS_MANAGER
    recorder = RecordingComm(manager.comm.comm_id)
    monkeypatch.setattr(manager, "comm", recorder)
    monkeypatch.setattr(manager, "_current_canvas", None)  # so each batch names its canvas
    return recorder


# ---------------------------------------------------------------- the mask the API gets
def test_untouched_mask_is_an_opaque_rgba_png_of_the_image_size_with_the_image_pixels():
    img = photo(300, 200)
    painter = MaskPainter(img)
    mask = Image.open(io.BytesIO(painter.mask))
    assert mask.format == "PNG" and mask.mode == "RGBA" and mask.size == (300, 200)
    assert (np.asarray(mask)[..., 3] == 255).all()
    assert np.array_equal(np.asarray(mask)[..., :3], np.asarray(img))
    assert not painter.has_mask and painter.markup is None


def test_image_bytes_takes_the_painter_as_its_mask():
    painter = MaskPainter(photo(64, 64))
    painter.paint_circle(32, 32, 8)
    assert painter.mask_png == painter.mask
    assert image_bytes(painter, "mask") == (painter.mask, "png")


def test_a_large_image_is_shown_downscaled_to_max_view():
    painter = MaskPainter(photo(2048, 1024), max_view=512)
    # shown at 512x256 CSS pixels, never stretched, drawn with 2 canvas pixels per CSS pixel (HiDPI)
    assert (painter.canvas.layout.width, painter.canvas.layout.height) == ("512px", "256px")
    assert painter.canvas.layout.max_width == "512px"
    assert (painter.canvas.width, painter.canvas.height) == (1024, 512)
    assert all((layer.width, layer.height) == (1024, 512) for layer in painter.canvas._canvases)
    assert painter.image.size == (2048, 1024)
    assert "shown at 512x256" in painter._status.value and "view 512x256" in repr(painter)


def test_the_pixel_ratio_sets_canvas_pixels_per_screen_pixel():
    sharp = MaskPainter(photo(1024, 768), pixel_ratio=3)
    assert (sharp.canvas.width, sharp.canvas.layout.width) == (1536, "512px")
    plain = MaskPainter(photo(1024, 768), pixel_ratio=1)
    assert (plain.canvas.width, plain.canvas.layout.width) == (512, "512px")
    with pytest.raises(ParamError, match="pixel_ratio"):
        MaskPainter(photo(64, 64), pixel_ratio=0)


# ---------------------------------------------------------------- strokes from the mouse
def test_drag_on_a_downscaled_view_clears_alpha_under_the_stroke_at_full_resolution():
    img = photo(1024, 768)
    painter = MaskPainter(img, brush=20)  # diameter 20 screen px = radius 20 image px at scale 2
    assert (painter.canvas.layout.width, painter.canvas.layout.height) == ("512px", "384px")
    drag(painter, (100, 100), (150, 100), (250, 100), (300, 100))
    a = alpha(painter)
    assert a.shape == (768, 1024)
    assert (a[200, 200:601] == 0).all()  # the centre line, ends included
    assert (a[200 - 18 : 200 + 19, 400] == 0).all()  # the stroke's width
    assert a[200 - 24, 400] == 255 and a[200 + 24, 400] == 255
    assert a[400, 200] == 255 and a[200, 640] == 255  # far away
    rgba = np.asarray(Image.open(io.BytesIO(painter.mask)))
    assert np.array_equal(rgba[..., :3], np.asarray(img))
    assert np.array_equal(painter.mask_array, a == 0)


def test_fast_drag_with_few_points_leaves_no_gaps():
    painter = MaskPainter(photo(1024, 768), brush=4)
    drag(painter, (20, 20), (480, 360))  # the browser reported only the two ends
    t = np.linspace(0, 1, 2000)
    xs, ys = np.round(40 + t * 920).astype(int), np.round(40 + t * 680).astype(int)
    assert painter.mask_array[ys, xs].all()


def test_eraser_restores_alpha_255():
    painter = MaskPainter(photo(1024, 768), brush=20)
    drag(painter, (100, 100), (300, 100))
    painter.action = "erase"
    drag(painter, (200, 60), (200, 140))  # crosses the stroke at image x=400
    a = alpha(painter)
    assert (a[160:241, 400] == 255).all()
    assert a[200, 250] == 0 and a[200, 550] == 0


def test_mouse_out_ends_the_stroke():
    painter = MaskPainter(photo(512, 512), brush=10)
    browser(painter, "mouse_down", 10, 10)
    browser(painter, "mouse_move", 100, 10)
    browser(painter, "mouse_out", 100, 10)
    browser(painter, "mouse_move", 100, 300)  # button still down, but back in from outside
    assert painter.mask_array[10, 50] and not painter.mask_array[200, 100]
    assert painter.undo() and not painter.has_mask  # the stroke was one undoable step


def test_rectangle_tool_paints_the_dragged_rectangle_in_image_pixels():
    painter = MaskPainter(photo(1024, 768))
    painter.tool = "rectangle"
    drag(painter, (50, 60), (120, 90), (150, 120))
    expected = np.zeros((768, 1024), bool)
    expected[120:240, 100:300] = True
    assert np.array_equal(painter.mask_array, expected)


def test_rectangle_tool_with_eraser_clears_the_rectangle():
    painter = MaskPainter(photo(200, 100))
    painter.paint_rect(0, 0, 200, 100)
    painter.tool, painter.action = "rectangle", "erase"
    drag(painter, (150, 80), (50, 20))  # corners in any order
    assert not painter.mask_array[20:80, 50:150].any()
    assert painter.mask_array.sum() == 200 * 100 - 100 * 60


# ---------------------------------------------------------------- whole-mask operations
def test_clear_empties_the_mask_and_can_be_undone():
    painter = MaskPainter(photo(100, 100))
    painter.paint_circle(50, 50, 20)
    painter.clear()
    assert not painter.has_mask and (alpha(painter) == 255).all()
    painter.undo()
    assert painter.has_mask


def test_invert_swaps_painted_and_unpainted():
    painter = MaskPainter(photo(100, 80))
    painter.paint_rect(10, 10, 30, 30)
    before = painter.mask_array
    painter.invert()
    assert np.array_equal(painter.mask_array, ~before)
    assert alpha(painter)[20, 20] == 255 and alpha(painter)[50, 50] == 0


def test_undo_and_redo_walk_the_history():
    painter = MaskPainter(photo(100, 100))
    assert not painter.undo() and not painter.redo()
    painter.paint_rect(0, 0, 10, 10)
    one = painter.mask_array
    painter.paint_rect(20, 20, 30, 30)
    two = painter.mask_array
    painter.erase_rect(0, 0, 5, 5)
    three = painter.mask_array
    assert painter.undo() and np.array_equal(painter.mask_array, two)
    assert painter.undo() and np.array_equal(painter.mask_array, one)
    assert painter.redo() and np.array_equal(painter.mask_array, two)
    assert painter.redo() and np.array_equal(painter.mask_array, three)
    assert not painter.redo()
    painter.undo()
    painter.paint_circle(80, 80, 5)  # a new change forgets what could be redone
    assert not painter.can_redo


def test_a_change_that_changes_nothing_is_not_a_history_step():
    painter = MaskPainter(photo(50, 50))
    painter.erase_rect(0, 0, 50, 50)
    assert not painter.can_undo


def test_history_is_bounded():
    painter = MaskPainter(photo(50, 50), history=3)
    for i in range(6):
        painter.paint_rect(i * 5, 0, i * 5 + 5, 5)
    assert sum(painter.undo() for _ in range(10)) == 3
    assert painter.mask_array[:5, :15].all() and not painter.mask_array[:5, 15:].any()


def test_toolbar_buttons_act_on_the_painter():
    painter = MaskPainter(photo(60, 60))
    painter.paint_rect(0, 0, 30, 30)
    painter._invert_button.click()
    assert painter.mask_array[40, 40] and not painter.mask_array[10, 10]
    painter._undo_button.click()
    assert painter.mask_array[10, 10]
    painter._clear_button.click()
    assert not painter.has_mask


# ---------------------------------------------------------------- Python API in image pixels
def test_paint_circle_takes_image_coordinates_and_radius():
    painter = MaskPainter(photo(1024, 768))  # shown at half size; the API ignores that
    painter.paint_circle(500, 300, 10)
    m = painter.mask_array
    assert m[300, 500] and m[300, 491] and m[291, 500]
    assert not m[300, 512] and not m[312, 500]
    painter.erase_circle(500, 300, 10)
    assert not painter.has_mask


def test_a_radius_must_be_positive():
    painter = MaskPainter(photo(10, 10))
    with pytest.raises(ParamError):
        painter.paint_circle(5, 5, 0)


def test_set_image_starts_over_on_the_new_image():
    painter = MaskPainter(photo(100, 100))
    painter.paint_circle(50, 50, 10)
    painter.set_image(photo(1000, 250, seed=1))
    assert painter.image.size == (1000, 250) and not painter.has_mask and not painter.can_undo
    assert (painter.canvas.layout.width, painter.canvas.layout.height) == ("512px", "128px")
    assert Image.open(io.BytesIO(painter.mask)).size == (1000, 250)


# ---------------------------------------------------------------- markup
def test_markup_mode_draws_the_colour_on_a_separate_transparent_layer():
    painter = MaskPainter(photo(1024, 768), brush=20)
    painter.mode, painter.color = "markup", "#00ff00"
    drag(painter, (100, 100), (300, 100))
    sketch = Image.open(io.BytesIO(painter.markup))
    assert sketch.mode == "RGBA" and sketch.size == (1024, 768)
    px = np.asarray(sketch)
    assert (px[200, 200:601] == (0, 255, 0, 255)).all()
    assert px[400, 200, 3] == 0 and px[200, 640, 3] == 0
    assert not painter.has_mask  # the mask is untouched
    painter.mode = "mask"
    painter.clear()  # clears the mask only
    assert painter.markup is not None


def test_markup_eraser_makes_the_sketch_transparent_again():
    painter = MaskPainter(photo(200, 200))
    painter.mode = "markup"
    painter.paint_circle(100, 100, 30)
    painter.erase_circle(100, 100, 40)
    assert painter.markup is None


# ---------------------------------------------------------------- errors and the wire
def test_a_callback_error_is_shown_in_the_widget_output_not_raised(monkeypatch):
    painter = MaskPainter(photo(100, 100))

    def broken(*args, **kwargs):
        raise RuntimeError("rasteriser exploded")

    monkeypatch.setattr(painter._doc, "stroke", broken)
    browser(painter, "mouse_down", 10, 10)  # must not raise
    (out,) = painter.output.outputs
    assert out["name"] == "stderr" and "rasteriser exploded" in out["text"]
    monkeypatch.undo()
    browser(painter, "mouse_move", 20, 20)  # the failed stroke is over; a new one works
    assert not painter.has_mask
    drag(painter, (10, 10), (20, 20))
    assert painter.has_mask


def test_the_canvas_receives_rgba_png_so_browser_pixels_are_exact(wire):
    img = photo(64, 48)
    painter = MaskPainter(img, pixel_ratio=1)  # fits: shown at 1:1
    drag(painter, (10, 10), (30, 10))
    images = [(canvas, buffers[0]) for canvas, name, _, buffers in wire.draw_commands() if name == "putImageData"]
    assert images
    for _, data in images:
        decoded = Image.open(io.BytesIO(data))
        assert decoded.format == "PNG" and decoded.mode == "RGBA"
    bottom = [d for c, d in images if c == painter.canvas[0].model_id]
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(bottom[0])))[..., :3], np.asarray(img))
    overlay = Image.open(io.BytesIO([d for c, d in images if c == painter.canvas[1].model_id][-1]))
    assert set(map(tuple, np.asarray(overlay).reshape(-1, 4))) >= {(255, 0, 255, 140)}


def test_a_stroke_sends_only_the_region_it_changed(wire):
    painter = MaskPainter(photo(1024, 768), brush=10)
    wire.messages.clear()
    browser(painter, "mouse_down", 200, 200)
    sent = [(args, Image.open(io.BytesIO(b[0])).size) for c, n, args, b in wire.draw_commands() if n == "putImageData"]
    assert len(sent) == 1
    (x, y), (w, h) = sent[0]
    r = painter.pixel_ratio  # the canvas counts its own pixels
    assert w * h < (40 * r) ** 2 and x <= 195 * r and y <= 195 * r and x + w >= 205 * r and y + h >= 205 * r


def test_a_new_browser_view_gets_the_whole_picture(wire):
    painter = MaskPainter(photo(64, 48))
    wire.messages.clear()
    painter.canvas.comm.handle_msg(
        {"content": {"data": {"method": "custom", "content": {"event": "client_ready"}}}, "buffers": []}
    )
    layers = {c for c, n, _, _ in wire.draw_commands() if n == "putImageData"}
    assert layers == {painter.canvas[0].model_id, painter.canvas[1].model_id}


# ---------------------------------------------------------------- import cost
def test_widgets_package_imports_ipycanvas_only_when_a_widget_is_used():
    code = (
        "import sys, imagewidgets.widgets as w\n"
        "assert 'ipycanvas' not in sys.modules, 'ipycanvas imported too early'\n"
        "w.MaskPainter\n"
        "assert 'ipycanvas' in sys.modules\n"
        "try:\n    w.NoSuchWidget\nexcept AttributeError:\n    pass\nelse:\n    raise SystemExit('no error')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
