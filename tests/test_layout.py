"""The folders are the layers: each package imports only the layers below it (lazy imports inside
functions count too), so the tree reads as the architecture and import circles cannot creep back.

    api  <  session  <  magics, widgets        offline and gateway sit beside them and may read api
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "imagewidgets"

#: layer -> the layers it may import (besides itself and the tiny top-level helper ``_lazy``)
ALLOWED = {
    "api": set(),
    "session": {"api"},
    "magics": {"api", "session", "widgets", "doctor"},
    "widgets": {"api", "session"},
    "offline": {"api"},
    "gateway": {"api"},
    "doctor": {"api", "session", "offline"},
}

#: (layer, layer) pairs allowed only inside a function: the gateway starts the offline twin for
#: ``--upstream offline`` rehearsals. (The api layer never imports the twin: a client with no key
#: reaches it through the starter ``imagewidgets/__init__.py`` registers in ``api/embedded.py``.)
LAZY_ONLY = {("gateway", "offline")}

#: inside the session layer: the views import the core, never the reverse
SESSION_CORE = {"core", "recorder", "tree", "store", "migrations", "turns", "replay", "thumbs", "batch_store",
                "budget", "fidelity", "outpaint", "variants", "progress", "pins", "background"}
SESSION_VIEWS = {"report", "sweep", "session", "views", "pack", "batch", "batch_submit", "rerun", "importing",
                 "storyboard"}


def _imports(path: Path, *, module_level: bool = False) -> list[str]:
    """Every ``imagewidgets`` module ``path`` imports, anywhere in the file (or only at module level),
    as dotted names."""
    here = path.relative_to(PACKAGE.parent).with_suffix("").parts
    pkg = here[:-1] if here[-1] != "__init__" else here[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if module_level and getattr(node, "col_offset", 0) > 0:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(pkg[: len(pkg) - node.level + 1])
                target = ".".join(base + ([node.module] if node.module else []))
                names = [f"{target}.{a.name}" for a in node.names] if not node.module else [target]
                out += names
            elif node.module and node.module.startswith("imagewidgets"):
                out.append(node.module)
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names if a.name.startswith("imagewidgets")]
    return out


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else None


def _modules(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_a_layer_imports_only_the_layers_below_it(layer):
    wrong = []
    for path in _modules(layer):
        for target in _imports(path):
            other = _layer(target)
            if other is not None and other != layer and other not in ALLOWED[layer]:
                if (layer, other) in LAZY_ONLY and target not in _imports(path, module_level=True):
                    continue
                wrong.append(f"{path.relative_to(PACKAGE)} imports {target}")
    assert wrong == []


def test_the_session_core_never_imports_its_views():
    wrong = []
    for name in SESSION_CORE:
        for target in _imports(PACKAGE / "session" / f"{name}.py"):
            parts = target.split(".")
            if parts[:2] == ["imagewidgets", "session"] and len(parts) > 2 and parts[2] in SESSION_VIEWS:
                wrong.append(f"session/{name}.py imports {target}")
    assert wrong == []


def test_views_do_not_import_the_public_session():
    """``report`` and ``sweep`` work on the core; only ``session.py`` puts them together."""
    for name in ("report", "sweep", "views", "batch", "batch_submit", "rerun"):
        targets = _imports(PACKAGE / "session" / f"{name}.py")
        assert "imagewidgets.session.session" not in targets, name


def test_every_package_says_what_its_layer_is_for_and_may_import():
    """Its docstring names the layers it may import (not merely the word "import")."""
    for layer in ALLOWED:
        doc = ast.get_docstring(ast.parse((PACKAGE / layer / "__init__.py").read_text("utf-8"))) or ""
        assert "may import" in doc.lower() or "imports ``" in doc.lower(), layer
        for below in ALLOWED[layer]:
            assert re.search(rf"\b{below}\b", doc), (layer, below)


def test_the_top_level_holds_only_the_surface_and_the_commands():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert top == ["__init__.py", "_lazy.py", "cli.py", "demo.py"]


def test_every_session_module_is_core_or_view():
    names = {p.stem for p in (PACKAGE / "session").glob("*.py")} - {"__init__"}
    assert names == SESSION_CORE | SESSION_VIEWS, sorted(names ^ (SESSION_CORE | SESSION_VIEWS))
    assert not SESSION_CORE & SESSION_VIEWS


#: layer -> the third-party packages it may import (anywhere in a file, lazily too); everything
#: else is the standard library. The session layer draws nothing: progress reaches the display as a
#: callback (``session/progress.py``), so it never imports ipywidgets or IPython.
THIRD_PARTY = {
    "api": {"PIL", "numpy", "httpx2", "typing_extensions"},
    "session": {"PIL", "pandas", "typing_extensions"},
    "magics": {"IPython"},
    "widgets": {"ipywidgets", "ipycanvas", "traitlets", "IPython", "PIL", "numpy"},
    "offline": {"starlette", "uvicorn", "anyio", "PIL", "numpy", "c2pa", "cryptography"},  # c2pa: signed images
    "gateway": {"starlette", "uvicorn", "anyio", "PIL"},
    "doctor": {"PIL", "jupyter_core"},
}
#: the one module that may import the HTTP library (every request goes through it)
HTTP_ONLY_IN = "api/_http.py"


def _third_party(path: Path) -> set[str]:
    import sys

    out = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module] if isinstance(node, ast.ImportFrom) and not node.level and node.module else [])
        out |= {n.split(".")[0] for n in names}
    return {n for n in out if n not in sys.stdlib_module_names and n not in ("imagewidgets", "__future__")}


@pytest.mark.parametrize("layer", sorted(THIRD_PARTY))
def test_a_layer_imports_only_its_third_party_packages(layer):
    wrong = [f"{path.relative_to(PACKAGE)} imports {sorted(extra)}" for path in _modules(layer)
             if (extra := _third_party(path) - THIRD_PARTY[layer])]
    assert wrong == []
    http = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if "httpx2" in _third_party(p)]
    assert http == [HTTP_ONLY_IN]


def test_sweeps_and_batch_jobs_report_progress_without_widgets():
    for name in ("sweep", "batch", "progress"):
        assert not _third_party(PACKAGE / "session" / f"{name}.py") & {"ipywidgets", "IPython"}, name


def _runtime_imports(path: Path) -> set[str]:
    """The package's modules ``path`` imports when it runs (module level or inside functions; not
    the ``if TYPE_CHECKING:`` imports, which never run), as module names."""
    tree = ast.parse(path.read_text("utf-8"))
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(node.test) for sub in node.body for n in ast.walk(sub)}
    here = path.relative_to(PACKAGE.parent).with_suffix("").parts
    pkg = list(here[:-1])
    out = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom):
            base = (pkg[: len(pkg) - node.level + 1] if node.level else []) + (node.module.split(".") if node.module else [])
            if node.module is None:
                out |= {".".join(base + [a.name]) for a in node.names}
            elif base and base[0] == "imagewidgets":
                out.add(".".join(base))
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("imagewidgets")}
    return out


def _module_graph() -> dict[str, set[str]]:
    def name(path: Path) -> str:
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    modules = {name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for mod, path in modules.items():
        targets = set()
        for target in _runtime_imports(path):
            while target and target not in modules:  # "pkg.module.name" -> "pkg.module"
                target = target.rpartition(".")[0]
            if target and target != mod and not mod.startswith(target + "."):  # not its own package
                targets.add(target)
        graph[mod] = targets
    return graph


def _circles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(frozenset(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _short(names: set[str]) -> frozenset[str]:
    return frozenset(n.removeprefix("imagewidgets.") for n in names)


#: the import circles that remain, each with why; a new circle fails, and a circle broken must be
#: taken off this list (the test compares both ways). None remain. In the api layer (the test below
#: keeps it so): the table states dates and the calendar reads the clock; requests declare, the
#: registry lists and validation is run by whoever sends; usage sits under prices and results, and
#: the package wires the client's services (the embedded twin, provenance checks) in from above.
KNOWN_CIRCLES: set[frozenset[str]] = set()


def test_no_new_import_circles_function_level_imports_included():
    found = {_short(set(c)) for c in _circles(_module_graph())}
    assert found - KNOWN_CIRCLES == set(), "new import circles"
    assert KNOWN_CIRCLES - found == set(), "circles broken: take them off KNOWN_CIRCLES"


def test_no_api_module_is_in_an_import_circle():
    """The API layer is a ladder: the model table under the calendar, declarations under requests under
    validation, usage under prices under results under the client (function-level imports included)."""
    api = [sorted(_short(set(c))) for c in _circles(_module_graph()) if any(m.startswith("imagewidgets.api.") for m in c)]
    assert api == []


def test_the_circle_finder_sees_a_circle_through_a_function_level_import(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circles(graph) == [frozenset({"a", "b", "c"})]


#: the module-level variables a ``global`` statement may rebind, each with why it is not a setting.
#: Settings (``configure()``, ``%imagine_config``, the preview) and the default session live in one
#: object, ``api.config.settings``; a new ``global`` fails here until it is listed (or moved there).
GLOBALS = {
    # the widgets layer plugs a kernel's progress bar in (the session layer cannot import widgets):
    # a hook the process registers once, not a setting a user sets
    ("session/progress.py", "_display"): "the progress display hook",
    # likewise the top-level package registers how the api layer starts the offline twin (api cannot
    # import offline): a hook, not a setting
    ("api/embedded.py", "_starter"): "the embedded backend's starter hook",
    # and how a result with no client in hand reaches the configured backend for a provenance check
    # (results cannot import the client that builds them): a hook, not a setting
    ("api/provenance.py", "_configured"): "the provenance check's configured-backend hook",
    # c2pa is optional and its signer and context are costly to make: found and made once, caches
    ("offline/provenance.py", "_missing"): "c2pa's absence, found once",
    ("offline/provenance.py", "_signer"): "the c2pa signer, made once",
    ("offline/provenance.py", "_context"): "the c2pa context, made once",
    # the one offline server a process starts on first use with no key (a running resource)
    ("offline/server.py", "_embedded"): "the embedded offline server",
}


def _globals(root: Path) -> set[tuple[str, str]]:
    """(module path, name) of every ``global name`` statement under ``root``."""
    return {(path.relative_to(root).as_posix(), name) for path in sorted(root.rglob("*.py"))
            for node in ast.walk(ast.parse(path.read_text("utf-8"))) if isinstance(node, ast.Global)
            for name in node.names}


def test_no_module_keeps_state_in_a_global_outside_the_list():
    found = _globals(PACKAGE)
    assert found - set(GLOBALS) == set(), "a global statement: keep settings in api.config.settings, or list it"
    assert set(GLOBALS) - found == set(), "gone: take it off GLOBALS"


def test_the_global_finder_sees_one_inside_a_function(tmp_path):
    (tmp_path / "m.py").write_text("_x = None\n\ndef f():\n    global _x\n    _x = 1\n")
    assert _globals(tmp_path) == {("m.py", "_x")}
