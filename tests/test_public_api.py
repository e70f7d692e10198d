"""The public surface: a sorted __all__ that matches the lazy exports, every name importable,
and a light import (no widgets, canvas, server or IPython until touched)."""

from __future__ import annotations

import subprocess
import sys

import imagewidgets


def test_all_is_sorted_and_every_name_resolves():
    assert imagewidgets.__all__ == sorted(imagewidgets.__all__)
    for name in imagewidgets.__all__:
        assert getattr(imagewidgets, name) is not None, name


def test_import_is_light():
    code = (
        "import sys, imagewidgets\n"
        "heavy = ['ipywidgets', 'ipycanvas', 'starlette', 'uvicorn', 'IPython', 'imagewidgets.offline.app',"
        " 'imagewidgets.widgets.studio', 'PIL', 'numpy', 'httpx2']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_touching_the_client_does_not_load_widgets_or_the_server():
    code = (
        "import sys, imagewidgets as iw\n"
        "from imagewidgets.api.validation import validate\n"
        "iw.Client; validate(iw.GenerateRequest('x'))\n"
        "print(','.join(m for m in ['ipywidgets', 'ipycanvas', 'starlette', 'uvicorn'] if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
