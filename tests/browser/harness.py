"""Real-browser test harness: JupyterLab or Notebook 7 in Debian's headless Chromium, driven by
Playwright.

`start_lab` runs an isolated `jupyter lab` (every Jupyter/IPython/XDG folder in a temporary
directory, the pytest interpreter as the kernel), `start_lab(..., app="notebook")` (or
`start_notebook`) the same for Notebook 7, `chromium_launch_options` configures the browser, and the page
helpers open a notebook, wait for its kernel, run it, and drag on canvases. Both front ends
expose `window.jupyterapp` with the same commands and the same cell/output classes, so the
helpers serve both. Assertions are
best made on kernel-side evidence (a file the notebook writes), read with `wait_for_file`.
See /work/shared/browser-testing.md for the pitfalls these helpers work around.

    @pytest.mark.browser
    def test_something(page, lab):                      # fixtures from conftest.py
        nb = open_notebook(page, lab, NOTEBOOKS / "x.ipynb", dest="something/x.ipynb")
        wait_kernel_ready(page)
        assert run_all(page)
        canvas = wait_for_widget(page, "canvas", cell=2)
        drag(page, canvas, [(10, 10), (100, 50)])        # canvas pixel coordinates
        assert wait_for_file(nb.parent / "evidence.json")
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
# Variables that would let Jupyter, IPython or Chromium read or write the home directory.
ISOLATED_DIRS = (
    "JUPYTER_CONFIG_DIR",
    "JUPYTER_DATA_DIR",
    "JUPYTER_RUNTIME_DIR",
    "IPYTHONDIR",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
)
OPENAI_VARIABLES = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID")
STARTUP_TIMEOUT = 60.0
DEFAULT_TIMEOUT = 30.0  # seconds, for kernel start, cell runs and widget rendering


#: front end -> (module run with `python -m`, its flags beyond the server's, page URL prefix)
APPS = {
    "lab": (
        "jupyterlab",
        ["--LabApp.expose_app_in_browser=True"],
        "/lab/tree",
    ),
    # Notebook 7 is a LabServerApp of its own (JupyterNotebookApp); jupyterlab's server
    # extension still runs beside it and serves the news/update endpoints its pages ask.
    "notebook": (
        "notebook",
        ["--JupyterNotebookApp.expose_app_in_browser=True"],
        "/notebooks",
    ),
}


@dataclass(frozen=True)
class Lab:
    """A running Jupyter server: JupyterLab, or Notebook 7 when `app` is "notebook"."""

    url: str  # http://127.0.0.1:PORT
    token: str
    root_dir: Path  # the server's root: notebooks are copied here
    state_dir: Path  # Jupyter/IPython/XDG folders live below this
    imagewidgets_home: Path  # IMAGEWIDGETS_HOME of the lab and its kernels
    log_path: Path
    process: subprocess.Popen
    app: str = "lab"  # a key of APPS

    def page_url(self, path: str) -> str:
        """URL of `path` (relative to root_dir) in the front end (JupyterLab: a fresh workspace)."""
        reset = "reset&" if self.app == "lab" else ""  # Notebook 7 keeps no workspace
        return f"{self.url}{APPS[self.app][2]}/{path}?{reset}token={self.token}"

    def api(self, method: str, endpoint: str) -> object:
        """Call the server's REST API; returns the decoded JSON (None when empty)."""
        request = urllib.request.Request(
            f"{self.url}{endpoint}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Stop every kernel of the server (kernels run in their own process groups)."""
        for kernel in self.api("GET", "/api/kernels"):
            with contextlib.suppress(urllib.error.URLError, OSError):
                self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _prepare_state(state_dir: Path) -> dict[str, str]:
    """Create the isolated folders, settings and kernelspec; return the lab's environment."""
    env = dict(os.environ)
    for name in ISOLATED_DIRS:
        folder = state_dir / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        env[name] = str(folder)
    # No real OpenAI credentials or endpoint: kernels get the offline backend by default.
    for name in ("JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR", *OPENAI_VARIABLES):
        env.pop(name, None)
    config_dir = Path(env["JUPYTER_CONFIG_DIR"])

    # Pitfall 2: a saved workspace reopens notebooks and starts extra kernels.
    shutil.rmtree(config_dir / "lab" / "workspaces", ignore_errors=True)
    # Pitfall 4: the news toast can cover widgets.
    settings = config_dir / "lab/user-settings/@jupyterlab/apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )

    # The kernel must be the interpreter running pytest. A kernelspec in JUPYTER_DATA_DIR
    # would lose to the venv's own `python3` spec (jupyter_core prefers environment paths
    # inside a venv), but JUPYTER_PATH always comes first.
    kernel_dir = state_dir / "jupyter_path" / "kernels" / "python3"
    kernel_dir.mkdir(parents=True, exist_ok=True)
    (kernel_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
                "metadata": {"debugger": True},
            }
        )
    )
    env["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(state_dir / "jupyter_path"), os.environ.get("JUPYTER_PATH")) if p
    )
    # Console scripts of the interpreter's environment (e.g. the kernel's shell commands).
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group (it then stops its kernels), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _wait_ready(url: str, token: str, process: subprocess.Popen, timeout: float) -> bool:
    """Poll /api/status until the server answers; False if the process died first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:
                if r.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"the Jupyter server did not answer on {url} within {timeout:.0f} s")


@contextlib.contextmanager
def start_lab(base_dir: Path, attempts: int = 3, app: str = "lab") -> Iterator[Lab]:
    """Run an isolated JupyterLab (or Notebook 7, app="notebook") for the duration of the block.

    base_dir receives `root/` (the server's root dir), `state/` (every Jupyter/IPython/XDG
    folder), `imagewidgets-home/` and `lab.log`. The free-port probe can race with another
    process, so a server that exits during startup is retried on a new port.
    """
    root_dir, state_dir = base_dir / "root", base_dir / "state"
    home = base_dir / "imagewidgets-home"
    for folder in (root_dir, state_dir, home):
        folder.mkdir(parents=True, exist_ok=True)
    env = _prepare_state(state_dir)
    env["IMAGEWIDGETS_HOME"] = str(home)
    log_path = base_dir / "lab.log"
    token = secrets.token_hex(24)

    module, app_flags, _ = APPS[app]
    for _ in range(attempts):
        port = _free_port()
        command = [
            sys.executable, "-m", module,
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root_dir}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            *app_flags,
        ]  # fmt: skip
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                command,
                cwd=root_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            ready = _wait_ready(url, token, process, STARTUP_TIMEOUT)
        except BaseException:
            _stop_group(process)
            raise
        if ready:
            break
    else:
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"jupyter {app} failed to start {attempts} times; log tail:\n{tail}")

    lab = Lab(url, token, root_dir, state_dir, home, log_path, process, app)
    try:
        yield lab
    finally:
        with contextlib.suppress(Exception):
            lab.shutdown_kernels()
        _stop_group(process)


def start_notebook(base_dir: Path, attempts: int = 3) -> contextlib.AbstractContextManager[Lab]:
    """`start_lab` for Notebook 7 (`jupyter notebook`), isolated the same way."""
    return start_lab(base_dir, attempts, app="notebook")


def chromium_launch_options(state_dir: Path | None = None) -> dict:
    """Keyword arguments for `playwright.chromium.launch` (Debian's Chromium, headless)."""
    options = {"executable_path": CHROMIUM, "headless": True, "args": list(CHROMIUM_ARGS)}
    if state_dir is not None:
        env = dict(os.environ)
        for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
            folder = state_dir / f"chromium-{name.lower()}"
            folder.mkdir(parents=True, exist_ok=True)
            env[name] = str(folder)
        options["env"] = env
    return options


# --- page helpers -------------------------------------------------------------------------


def open_notebook(page, lab: Lab, path: str | Path, dest: str | None = None) -> Path:
    """Copy the notebook at `path` into the lab's root dir and open it in `page`.

    dest is the path inside the root dir (default: the file name); give each test its own
    folder (e.g. "test_x/nb.ipynb") so evidence files written next to the notebook don't mix.
    Returns the copied notebook's path; the kernel's working directory is its folder.
    """
    source = Path(path)
    target = lab.root_dir / (dest or source.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    relative = target.relative_to(lab.root_dir).as_posix()
    page.goto(lab.page_url(relative))
    return target


_CURRENT_NOTEBOOK = """
    () => {
        const app = window.jupyterapp;
        const widget = app && app.shell.currentWidget;
        return !!(widget && widget.sessionContext && widget.content && widget.content.model);
    }
"""


def wait_kernel_ready(page, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Wait until the current notebook's kernel is connected and idle (pitfall 1)."""
    ms = timeout * 1000
    page.wait_for_function(_CURRENT_NOTEBOOK, timeout=ms)
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.ready")
    page.wait_for_function(
        """() => {
            const ctx = window.jupyterapp.shell.currentWidget.sessionContext;
            const kernel = ctx.session && ctx.session.kernel;
            return !!kernel && kernel.connectionStatus === 'connected'
                && kernel.status === 'idle';
        }""",
        timeout=ms,
    )


def run_all(page, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Run every cell of the current notebook and wait until the last one has finished.

    Returns JupyterLab's verdict (False when a cell raised). Call `wait_kernel_ready` first.
    """
    return page.evaluate(
        """async (ms) => {
            const run = window.jupyterapp.commands.execute('notebook:run-all-cells');
            const late = new Promise((_, reject) =>
                setTimeout(() => reject(new Error(`cells still running after ${ms} ms`)), ms));
            return await Promise.race([run, late]);
        }""",
        timeout * 1000,
    )


_RUN_NEW_CELL = """
async (code) => {
    const app = window.jupyterapp;
    const notebook = app.shell.currentWidget.content;
    notebook.activeCellIndex = notebook.widgets.length - 1;
    await app.commands.execute('notebook:insert-cell-below');
    notebook.activeCell.model.sharedModel.setSource(code);
    return await app.commands.execute('notebook:run-cell');
}
"""


def run_new_cell(page, code: str) -> object:
    """Add a cell below the last one holding ``code`` and run it, as a user typing it would; returns
    what JupyterLab's run-cell command answered (False: it did not run)."""
    return page.evaluate(_RUN_NEW_CELL, code)


def cell_problems(page) -> list[dict]:
    """Error and stderr outputs of the current notebook, as {cell, output_type, text}."""
    return page.evaluate(
        """() => {
            const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
            const found = [];
            for (let i = 0; i < cells.length; i++) {
                const cell = cells.get(i);
                if (cell.type !== 'code') continue;
                for (let j = 0; j < cell.outputs.length; j++) {
                    const out = cell.outputs.get(j).toJSON();
                    if (out.output_type === 'error') {
                        found.push({cell: i, output_type: 'error',
                                    text: `${out.ename}: ${out.evalue}`});
                    } else if (out.output_type === 'stream' && out.name === 'stderr') {
                        const text = Array.isArray(out.text) ? out.text.join('') : out.text;
                        found.push({cell: i, output_type: 'stderr', text});
                    }
                }
            }
            return found;
        }"""
    )


def assert_no_cell_problems(page) -> None:
    """Fail if any cell shows an error or stderr output (model and DOM both checked)."""
    problems = cell_problems(page)
    assert not problems, f"cells produced errors or stderr: {problems}"
    shown = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    assert shown.count() == 0, f"stderr shown: {shown.all_inner_texts()}"


def cell_outputs(page, cell: int):
    """Locator of the output area(s) of the notebook's cell number `cell` (0-based, all kinds)."""
    return page.locator(".jp-Notebook .jp-Cell").nth(cell).locator(".jp-OutputArea-output")


def wait_for_widget(page, selector: str, cell: int | None = None, timeout: float = DEFAULT_TIMEOUT):
    """Wait for a visible element matching `selector` in a cell output; return its Locator.

    Looks in every output, or only in those of cell number `cell` (0-based) when given.
    """
    scope = page.locator(".jp-OutputArea-output") if cell is None else cell_outputs(page, cell)
    locator = scope.locator(selector).first
    locator.wait_for(state="visible", timeout=timeout * 1000)
    return locator


def wait_for_file(path: str | Path, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Wait until `path` exists and is non-empty (pitfall 7: kernel-side evidence).

    The writer should write atomically (temp file + rename) so a partial file is never seen.
    """
    path = Path(path)
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.stat().st_size > 0):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {timeout:.0f} s")
        time.sleep(0.05)
    return path


def element_geometry(locator) -> dict:
    """Bounding box (CSS px, viewport) and intrinsic size of an element.

    For a <canvas> the intrinsic size is its width/height attributes (its drawing buffer);
    for anything else it is the CSS size, so coordinates are plain CSS pixels.
    """
    return locator.evaluate(
        """(el) => {
            const r = el.getBoundingClientRect();
            const isCanvas = el instanceof HTMLCanvasElement;
            return {left: r.left, top: r.top, width: r.width, height: r.height,
                    intrinsic_width: isCanvas ? el.width : r.width,
                    intrinsic_height: isCanvas ? el.height : r.height};
        }"""
    )


def to_viewport(geometry: dict, x: float, y: float) -> tuple[float, float]:
    """Map element coordinates to viewport CSS pixels (inverse of ipycanvas' getCoordinates)."""
    sx = geometry["width"] / geometry["intrinsic_width"]
    sy = geometry["height"] / geometry["intrinsic_height"]
    return geometry["left"] + x * sx, geometry["top"] + y * sy


def drag(page, locator, points: Sequence[tuple[float, float]], steps: int = 5) -> None:
    """Press at points[0], move through the others, release at points[-1].

    Points are in the element's own coordinates (a canvas' drawing-buffer pixels, whatever
    its CSS size). Real mouse events: `steps` intermediate moves per segment.
    """
    if len(points) < 2:
        raise ValueError("a drag needs at least two points")
    locator.scroll_into_view_if_needed()
    geometry = element_geometry(locator)
    viewport = [to_viewport(geometry, x, y) for x, y in points]
    page.mouse.move(*viewport[0])
    page.mouse.down()
    for x, y in viewport[1:]:
        page.mouse.move(x, y, steps=steps)
    page.mouse.up()
