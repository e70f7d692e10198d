"""Collaborators talk through public contracts: no module reads or calls another object's private
members (``store._query``, ``client._send``, ``session._source``...). A private name may be used on
``self``/``cls``, or on another object of the same module (``other._value`` in ``Secret.__eq__``);
the few stdlib internals we rely on are listed with why.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "imagewidgets"

#: stdlib internals, each for a reason: argparse has no public way to list a parser's options or to
#: type its sub-parsers action; sys._getframe is the documented way to find the caller's frame
STDLIB = {("argparse", "_SubParsersAction"), ("sys", "_getframe"), ("parser", "_actions")}


def _defined_privates(tree: ast.AST) -> set[str]:
    """Private names a module defines: its functions, classes' attributes and ``self._x`` assignments."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name.startswith("_"):
            out.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and node.attr.startswith("_"):
            out.add(node.attr)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out.add(node.target.id)
        elif isinstance(node, ast.Assign):
            out.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return {n for n in out if n.startswith("_")}


def cross_module_private_uses(root: Path = PACKAGE) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        own = _defined_privates(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")):
                continue
            base = node.value
            if isinstance(base, ast.Name) and base.id in ("self", "cls"):
                continue
            if isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id == "super":
                continue
            if node.attr in own or (isinstance(base, ast.Name) and (base.id, node.attr) in STDLIB):
                continue
            found.append(f"{path.relative_to(root)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_uses_another_objects_private_members():
    found = cross_module_private_uses()
    assert not found, f"{len(found)} uses of another module's private members:\n" + "\n".join(found)


def test_the_check_finds_a_private_call_from_another_module(tmp_path):
    (tmp_path / "store.py").write_text(
        "class Store:\n    def _query(self, sql):\n        return []\n"
        "    def same(self, other):\n        return other._query('SELECT 2')\n", "utf-8")
    (tmp_path / "pack.py").write_text("def rows(store):\n    return store._query('SELECT 1')\n", "utf-8")
    assert cross_module_private_uses(tmp_path) == ["pack.py:2: store._query"]


def test_the_gateway_prices_with_the_one_cost_formula():
    """One place per fact: the gateway's upper bound uses ``api/cost.py``'s token table and formula."""
    import inspect

    import pytest

    from imagewidgets.api import cost
    from imagewidgets.gateway import pricing

    source = inspect.getsource(pricing)
    assert "2_000_000" not in source and "4_000_000" not in source  # no second copy of the formula
    model = "gpt-image-2.5-sunburst"  # takes xhigh
    q = pricing.quote("generations", {"model": model, "prompt": "", "quality": "xhigh", "size": "1536x1024"})
    out = max(cost.output_tokens("xhigh", "1536x1024"), cost.formula_tokens("xhigh", 1536, 1024))
    # the bound adds the body's text at the text rate (a few characters here): within a tenth of a cent
    assert q.usd == pytest.approx(out * cost.prices_for(model).image_output / 1e6, abs=1e-3)


def test_one_server_bootstrap_serves_the_twin_and_the_gateway():
    import inspect

    from imagewidgets.gateway import server as gateway_server

    source = inspect.getsource(gateway_server)
    assert "setsockopt" not in source and "uvicorn.Config" not in source  # the offline server's set-up, reused
