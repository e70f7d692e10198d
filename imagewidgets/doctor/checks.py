"""The local checks of ``imagewidgets doctor``: one line each, ok / warn / fail, and the fix.

    >>> from imagewidgets.doctor import run_checks
    >>> for check in run_checks():               # doctest: +SKIP
    ...     print(check)
    ok    python        3.11.7
    ok    backend       offline renderer (procedural, not AI) (no key and no base URL set)
    ...

Nothing here prints or stores the API key: the key check says only whether one is set and where
it came from.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import time
from dataclasses import dataclass
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from ..api import config as _config
from ..api.models import DEFAULT_MODEL, MODELS

__all__ = ["Check", "DoctorReport", "run_checks", "render_text", "PACKAGES"]

#: distributions whose versions the report lists; the first group is required for widgets
PACKAGES = ("imagewidgets", "ipywidgets", "ipycanvas", "jupyterlab", "notebook", "ipykernel", "IPython",
            "pillow", "numpy", "httpx2", "openai")
_REQUIRED = ("ipywidgets", "ipycanvas", "pillow", "httpx2")

#: front-end extensions the widgets need, as JupyterLab (and Notebook 7) name them
FRONTEND_EXTENSIONS = {"ipywidgets": "@jupyter-widgets/jupyterlab-manager", "ipycanvas": "ipycanvas"}

_LOW_SPACE = 1 << 30  # warn below 1 GiB free: a session of real images is hundreds of MB
_NO_SPACE = 100 << 20  # fail below 100 MiB
_RETIRING_DAYS = 30


@dataclass(frozen=True)
class Check:
    """One line of the report: ``status`` is ``ok``, ``warn`` or ``fail``; ``fix`` says what to do."""

    name: str
    status: str
    detail: str
    fix: str = ""

    def __str__(self) -> str:
        line = f"{self.status:<5} {self.name:<14} {self.detail}"
        return line + (f"\n      {'':<14} fix: {self.fix}" if self.fix else "")

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


# -- each check ---------------------------------------------------------------------------------

def check_python() -> Check:
    v = sys.version_info
    text = f"{v.major}.{v.minor}.{v.micro} ({sys.executable})"
    if v < (3, 10):
        return Check("python", "fail", text, "imagewidgets needs Python 3.10 or newer")
    return Check("python", "ok", text)


def check_packages() -> Check:
    found, missing = [], []
    for name in PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            missing.append(name)
    required = [m for m in missing if m in _REQUIRED]
    text = ", ".join(found) + (f"; not installed: {', '.join(missing)}" if missing else "")
    if required:
        return Check("packages", "fail", text, f"pip install {' '.join(required)}")
    return Check("packages", "ok", text)


def _source(arg: Any, key: str, var: str) -> str | None:
    """Where a setting comes from, in the order ``resolve`` reads them."""
    if arg is not None:
        return "argument"
    if _config.settings.get(key) is not None:
        return "%imagine_config / configure()"
    if os.environ.get(var):
        return f"environment ({var})"
    return None


def check_backend(base_url: str | None = None) -> Check:
    cfg = _config.resolve(base_url=base_url)
    url_from = _source(base_url, "base_url", "OPENAI_BASE_URL")
    key_from = _source(None, "api_key", "OPENAI_API_KEY")
    if cfg.offline:
        why = f"the base URL is 'offline' ({url_from})" if url_from else "no key and no base URL are set"
        return Check("backend", "ok", f"{cfg.describe()}; because {why}")
    where = url_from or (f"the key from {key_from} selects api.openai.com" if key_from else "default")
    text = f"{cfg.describe()} (from {where})"
    base = cfg.base_url or ""
    host = base.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0].strip("[]")
    if base.startswith("http://") and host not in ("127.0.0.1", "localhost", "::1"):
        return Check("backend", "warn", text + "; the key would cross the network unencrypted",
                     "use an https:// base URL (a classroom gateway belongs behind TLS)")
    return Check("backend", "ok", text)


def check_key(base_url: str | None = None) -> Check:
    cfg = _config.resolve(base_url=base_url)
    key_from = _source(None, "api_key", "OPENAI_API_KEY")
    if cfg.offline:
        return Check("api key", "ok", "not needed: the offline backend runs without one")
    if not cfg.api_key:
        return Check("api key", "warn", f"not set, but {cfg.base_url} is configured",
                     "export OPENAI_API_KEY=... (or %imagine_config --api-key ...), unless this server needs none")
    return Check("api key", "ok", f"set (from {key_from}); never printed")


def _mode(path: Path) -> str:
    return stat.filemode(path.stat().st_mode)


def check_store(folder: Path | None = None) -> Check:
    from ..session.store import default_folder

    folder = Path(folder) if folder is not None else default_folder()
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    text = f"{folder} ({'exists' if folder.exists() else 'made on first use'}; {free / (1 << 30):.1f} GiB free"
    if folder.exists():
        text += f"; mode {_mode(folder)}"
    text += ")"
    if not os.access(existing, os.W_OK):
        return Check("store", "fail", text + "; not writable", f"set IMAGEWIDGETS_STORE to a folder you can write")
    if free < _NO_SPACE:
        return Check("store", "fail", text, "free some disk space or set IMAGEWIDGETS_STORE elsewhere")
    if free < _LOW_SPACE:
        return Check("store", "warn", text, "less than 1 GiB free: a session of real images needs hundreds of MB")
    if folder.exists() and folder.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        return Check("store", "warn", text + "; others on this machine can read your images",
                     f"chmod 700 {folder}")
    return Check("store", "ok", text)


def _labextension_dirs() -> list[Path]:
    try:
        from jupyter_core.paths import jupyter_path
    except ImportError:  # no Jupyter in this environment at all
        return []
    return [Path(p) for p in jupyter_path("labextensions")]


def _disabled_extensions() -> set[str]:
    """Extensions switched off in ``labconfig/page_config.json`` (``jupyter labextension disable``)."""
    try:
        from jupyter_core.paths import jupyter_config_path
    except ImportError:
        return set()
    off: set[str] = set()
    for folder in jupyter_config_path():
        page = Path(folder) / "labconfig" / "page_config.json"
        try:
            cfg = json.loads(page.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        disabled = cfg.get("disabledExtensions") or {}
        if isinstance(disabled, dict):
            off |= {k for k, v in disabled.items() if v}
        elif isinstance(disabled, list):
            off |= {str(k) for k in disabled}
    return off


def check_frontend() -> Check:
    dirs = _labextension_dirs()
    disabled = _disabled_extensions()
    missing, off = [], []
    for package, ext in FRONTEND_EXTENSIONS.items():
        if not any((d / ext / "package.json").is_file() for d in dirs):
            missing.append(f"{ext} ({package})")
        elif ext in disabled:
            off.append(ext)
    if missing:
        return Check("front-end", "fail", f"JupyterLab/Notebook extension missing: {', '.join(missing)} -"
                     " widgets would show 'Loading widget...' or a blank canvas",
                     "pip install ipywidgets ipycanvas in the environment that runs the Jupyter server, "
                     "then restart the server and reload the page")
    if off:
        return Check("front-end", "fail", f"extension disabled: {', '.join(off)}",
                     f"jupyter labextension enable {' '.join(off)}, then reload the page")
    return Check("front-end", "ok", "ipywidgets and ipycanvas extensions installed and enabled "
                 "(JupyterLab 4 / Notebook 7)")


def check_kernel(environ: dict[str, str] | None = None, modules: Any = None) -> Check:
    env = os.environ if environ is None else environ
    modules = sys.modules if modules is None else modules
    if "google.colab" in modules or env.get("COLAB_RELEASE_TAG"):
        return Check("kernel", "warn", "Google Colab: third-party widgets (ipycanvas: the mask painter, live "
                     "frames) need Colab's custom widget manager",
                     "from google.colab import output; output.enable_custom_widget_manager()")
    if env.get("VSCODE_PID") or env.get("VSCODE_CWD") or env.get("VSCODE_IPC_HOOK_CLI"):
        return Check("kernel", "warn", "VS Code: widgets render through VS Code's Jupyter extension, which "
                     "loads ipycanvas from a CDN; painting masks may be slower and offline use may fail",
                     "if the canvas stays blank, open the notebook in JupyterLab (jupyter lab)")
    return Check("kernel", "ok", "a plain Jupyter / IPython environment")


def check_offline() -> Check:
    """Start the offline backend on loopback, list its models and draw one small image."""
    from ..api.client import Client
    from ..api.results import ImageResult
    from ..offline.server import OfflineServer

    t0 = time.perf_counter()
    try:
        with OfflineServer() as server, Client(base_url=server.base_url, api_key="doctor", save_dir=None,
                                               max_retries=0) as client:
            started = time.perf_counter() - t0
            img = client.generate("a doctor's check", model=DEFAULT_MODEL, size="1024x1024", quality="low")
            took = time.perf_counter() - t0 - started
    except Exception as e:  # a report line, never a traceback: say what failed
        return Check("offline", "fail", f"the offline backend did not answer: {type(e).__name__}",
                     "pip install -e . again (starlette, uvicorn and python-multipart are needed)")
    size = f"{img.width}x{img.height}" if isinstance(img, ImageResult) else "?"
    return Check("offline", "ok", f"started in {started:.2f}s on loopback, drew a {size} image in {took:.2f}s")


def _lifecycle_rows(models: list[dict], today: date) -> tuple[list[str], list[str]]:
    retired, retiring = [], []
    for m in models:
        name, when = str(m.get("id", "?")), m.get("shutdown_date")
        if not when:
            continue
        try:
            day = date.fromisoformat(str(when)[:10]) if not isinstance(when, (int, float)) else \
                date.fromtimestamp(when)
        except ValueError:
            continue
        spec = MODELS.get(name)
        instead = f", use {spec.replacement}" if spec is not None and spec.replacement else ""
        if day <= today:
            retired.append(f"{name} (since {day}{instead})")
        elif (day - today).days <= _RETIRING_DAYS:
            retiring.append(f"{name} (on {day}{instead})")
    return retired, retiring


def check_lifecycle(base_url: str | None = None, today: date | None = None,
                    list_models: Callable[[], list[dict]] | None = None) -> Check:
    """Which of our models the configured server has retired or retires within 30 days, from its
    own model list (``GET /models``); the model table when the server does not say."""
    if today is None:
        from ..api.lifecycle import today as _today

        today = _today()
    source = "the server's model list"
    try:
        models = list_models() if list_models is not None else _server_models(base_url)
    except Exception as e:
        models, source = [], f"the model table (the server's list failed: {type(e).__name__})"
    ours = [m for m in models if isinstance(m, dict) and m.get("id") in MODELS]
    if not any(m.get("shutdown_date") for m in ours):
        source = source if source != "the server's model list" else "the model table (the server gives no dates)"
        ours = [{"id": n, "shutdown_date": s.shutdown_date} for n, s in MODELS.items()]
    retired, retiring = _lifecycle_rows(ours, today)
    text = f"from {source}: " + ("; ".join(filter(None, [
        f"retired: {', '.join(retired)}" if retired else "",
        f"retiring within {_RETIRING_DAYS} days: {', '.join(retiring)}" if retiring else ""])) or "none retired")
    if retiring:
        return Check("lifecycle", "warn", text, "move notebooks to the replacement before the date "
                     "(session.rerun(..., model=...) re-runs old turns)")
    return Check("lifecycle", "ok", text)


def _server_models(base_url: str | None) -> list[dict]:
    from ..api.client import Client

    with Client(base_url=base_url, save_dir=None, max_retries=0) as client:
        if client.config.offline:  # the embedded backend serves the table itself
            return [{"id": n, "shutdown_date": s.shutdown_date} for n, s in MODELS.items()]
        body = client.call("list_models").json()
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, list) else []


# -- all of them --------------------------------------------------------------------------------

def run_checks(*, base_url: str | None = None, store: Path | None = None, offline: bool = True,
               lifecycle: bool = True) -> list[Check]:
    """Every local check, in the order a user would fix things."""
    checks = [check_python(), check_packages(), check_backend(base_url), check_key(base_url),
              check_store(store), check_frontend(), check_kernel()]
    if offline:
        checks.append(check_offline())
    if lifecycle:
        checks.append(check_lifecycle(base_url))
    return checks


def render_text(checks: list[Check]) -> str:
    worst = "fail" if any(c.status == "fail" for c in checks) else \
        "warn" if any(c.status == "warn" for c in checks) else "ok"
    summary = {"ok": "everything works here", "warn": "works, with warnings above",
               "fail": "something needs fixing (see 'fix:')"}[worst]
    return "\n".join(str(c) for c in checks) + f"\n\nimagewidgets doctor: {summary}"


_COLOURS = {"ok": "#1e8449", "warn": "#b9770e", "fail": "#c0392b"}


@dataclass(frozen=True)
class DoctorReport:
    """The checks as a notebook shows them (a table) and a terminal prints them (text)."""

    checks: list[Check]

    def __str__(self) -> str:
        return render_text(self.checks)

    __repr__ = __str__

    @property
    def failed(self) -> bool:
        return any(c.status == "fail" for c in self.checks)

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr><td style='color:{_COLOURS.get(c.status, '#222')};font-weight:bold'>{c.status}</td>"
            f"<td>{html.escape(c.name)}</td><td style='text-align:left'>{html.escape(c.detail)}"
            + (f"<br><i>fix:</i> <code>{html.escape(c.fix)}</code>" if c.fix else "") + "</td></tr>"
            for c in self.checks)
        return f"<table class='iw-doctor'>{rows}</table>"
