"""The folders are the layers: each package imports only the layers below it (lazy imports inside
functions count too), so the tree reads as the architecture and import circles cannot creep back.

    api  <  session  <  magics, widgets        offline and gateway sit beside them and may read api
"""

from __future__ import annotations

import ast
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

#: (layer, layer) pairs allowed only inside a function: the client starts the embedded offline
#: backend on first use when no key is configured, never at import; the gateway starts it for
#: ``--upstream offline`` rehearsals
LAZY_ONLY = {("api", "offline"), ("gateway", "offline")}

#: inside the session layer: the views import the core, never the reverse
SESSION_CORE = {"core", "recorder", "tree", "store", "migrations", "turns", "replay", "thumbs", "batch_store", "pins"}
SESSION_VIEWS = {"report", "sweep", "session", "views", "pack", "batch", "batch_submit", "rerun", "storyboard"}


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
    for layer in ALLOWED:
        doc = ast.get_docstring(ast.parse((PACKAGE / layer / "__init__.py").read_text("utf-8"))) or ""
        assert "import" in doc.lower(), layer


def test_the_top_level_holds_only_the_surface_and_the_commands():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert top == ["__init__.py", "_lazy.py", "cli.py", "demo.py"]
