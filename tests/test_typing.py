"""Typing is enforced, not claimed: mypy passes over the whole package (configured in
pyproject.toml), the package ships ``py.typed``, requests are typed (no ``req: Any``), and the verbs'
options are ``TypedDict``s whose ``Literal`` values are the registry's and the model table's, so an
editor completes ``quality=`` and mypy refuses a value no model takes.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import os
import subprocess
import sys
import tempfile
import tomllib
import typing
from pathlib import Path

import pytest

from imagewidgets.api import options as O
from imagewidgets.api.models import MODELS
from imagewidgets.api.params import params_of
from imagewidgets.api.requests import EditRequest, GenerateRequest, ResponsesRequest, VariationRequest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "imagewidgets"
#: mypy's cache outside the work tree, per checkout: a second run takes seconds
CACHE = Path(tempfile.gettempdir()) / f"imagewidgets-mypy-{hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]}"


def _mypy(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(CACHE), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_mypy_passes_over_the_whole_package():
    done = _mypy()  # [tool.mypy] in pyproject.toml names the package
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Success: no issues found" in done.stdout


def test_the_package_ships_py_typed_and_mypy_is_in_the_test_extra():
    assert (PACKAGE / "py.typed").is_file()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert "py.typed" in project["tool"]["setuptools"]["package-data"]["imagewidgets"]
    assert any(dep.startswith("mypy") for dep in project["project"]["optional-dependencies"]["test"])
    assert project["tool"]["mypy"]["packages"] == ["imagewidgets"]


def test_no_request_is_typed_any():
    found = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.arg) and node.arg == "req" and isinstance(node.annotation, ast.Name) \
                    and node.annotation.id == "Any":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, found


def _literals(tp: object) -> set[str]:
    """Every Literal value inside ``tp`` (through Unions)."""
    if typing.get_origin(tp) is typing.Literal:
        return set(typing.get_args(tp))
    return set().union(*(_literals(a) for a in typing.get_args(tp))) if typing.get_args(tp) else set()


def _table_values(attr: str) -> set[str]:
    return {v for spec in MODELS.values() for v in getattr(spec, attr)}


@pytest.mark.parametrize("options, request_type", [
    (O.GenerateOptions, GenerateRequest), (O.EditOptions, EditRequest), (O.RespondOptions, ResponsesRequest)])
def test_the_options_types_are_the_declared_parameters_with_the_tables_values(options, request_type):
    hints = typing.get_type_hints(options)
    declared = {p.name: p for p in params_of(request_type)}
    assert set(declared) <= set(hints), f"not typed in api/options.py: {sorted(set(declared) - set(hints))}"
    extra = set(hints) - set(declared)
    fields = {f.name for f in dataclasses.fields(request_type)}
    assert extra <= fields, f"typed but not a field of {request_type.__name__}: {sorted(extra - fields)}"
    for name, p in declared.items():
        if p.choices == "sizes":
            assert _table_values("sizes") | {"auto"} <= _literals(hints[name]) and str in typing.get_args(hints[name])
        elif p.choices:
            assert _literals(hints[name]) == _table_values(p.choices), name
        elif p.json is int:
            assert hints[name] is int, name


def test_vary_options_are_the_variation_fields():
    fields = {f.name for f in dataclasses.fields(VariationRequest)}
    assert set(typing.get_type_hints(O.VaryOptions)) == fields - {"image"}


SNIPPET = '''
from imagewidgets import Client
from imagewidgets.session.session import Session

client = Client()
client.generate("a kite", quality="low", output_format="webp", size="1600x896")
client.generate("a kite", quality="hgih")
Session("s").imagine("a kite", background="transparent", stream=True)
Session("s").edit("a hat", input_fidelity="sharp")
'''


def test_mypy_refuses_a_value_no_model_takes_and_accepts_real_ones(tmp_path):
    (tmp_path / "use.py").write_text(SNIPPET, "utf-8")
    done = _mypy("--config-file", str(ROOT / "pyproject.toml"), str(tmp_path / "use.py"), cwd=ROOT)
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 2, done.stdout
    assert "use.py:7:" in errors[0] and "'hgih'" in errors[0] and '"quality"' in errors[0]
    assert "'low', 'medium', 'high'" in errors[0]  # what the editor offers
    assert "use.py:9:" in errors[1] and "'sharp'" in errors[1] and '"input_fidelity"' in errors[1]
