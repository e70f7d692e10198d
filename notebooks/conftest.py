"""Notebooks run by nbval never use a key or write outside a temp dir, even when only this folder
is tested (``pytest notebooks/``): the kernels inherit this process's environment. A full run sets
the same up in ``tests/conftest.py``; the first to run wins (``setdefault``)."""

import os
import tempfile


def pytest_configure(config):
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        os.environ.pop(var, None)
    if not (os.environ.get("IMAGEWIDGETS_HOME") and os.environ.get("IMAGEWIDGETS_STORE")):
        run_dir = tempfile.mkdtemp(prefix="imagewidgets-notebooks-")
        os.environ.setdefault("IMAGEWIDGETS_HOME", os.path.join(run_dir, "home"))
        os.environ.setdefault("IMAGEWIDGETS_STORE", os.path.join(run_dir, "store"))
