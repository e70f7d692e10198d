"""Each endpoint is declared once (``api/endpoints.py``): the client's wire, the offline twin's
routes, the class gateway's map, the Batch API's list and the recorder's turn kinds read it.

The main test adds a throwaway endpoint the way a contributor would (one line of the table) to a
copy of the package and sees it in all of them; the others check that the table and its readers
agree, and that no other module spells an endpoint's path.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from imagewidgets.api import endpoints as E
from imagewidgets.api import requests as R

PACKAGE = Path(__file__).resolve().parents[1] / "imagewidgets"

ANCHOR = '    Endpoint("retrieve_model", "GET", "/models/{model}", answer="model", gateway="model"),\n'
THROWAWAY = ('    Endpoint("sketches", "POST", "/images/sketches", answer="images", cost="image", kind="sketch",\n'
             '             gateway="metered", batchable=True),\n')

SCRIPT = r'''
import json
import httpx2
from imagewidgets.api import batches, endpoints
from imagewidgets.api.client import Client
from imagewidgets.api.errors import APIError
from imagewidgets.gateway import pricing
from imagewidgets.gateway.proxy import Gateway
from imagewidgets.gateway.store import GatewayStore
from imagewidgets.offline import batches_api
from imagewidgets.offline.app import create_app
from imagewidgets.offline.server import OfflineServer
from imagewidgets.session import recorder

out = {}
out["twin_routes"] = [[r.path, sorted(r.methods or ())] for r in create_app().routes]
gateway = Gateway(GatewayStore(":memory:"), "http://127.0.0.1:9", "sk-upstream")
out["gateway_routes"] = [[r.path, sorted(r.methods or ())] for r in gateway.routes()]
out["batch_urls"] = [list(batches.BATCH_ENDPOINTS), list(batches_api.BATCH_ENDPOINTS)]
out["kind"] = recorder._KIND.get("sketches")
q = pricing.quote("sketches", {"model": "gpt-image-2", "prompt": "a kite", "quality": "low", "size": "1024x1024"})
out["quote"] = [q.endpoint, q.usd > 0]
with OfflineServer() as server, Client(base_url=server.base_url, api_key="sk-test", max_retries=0) as client:
    try:
        client.call("sketches", json={"prompt": "a kite"})
    except APIError as e:
        out["client"] = [e.status, e.code]
    try:
        client.send("POST", "/images/nowhere", json={})
    except APIError as e:
        out["unknown"] = [e.status, e.code]
print("RESULT:" + json.dumps(out))
'''


def test_a_new_endpoint_in_the_table_reaches_client_twin_gateway_batches_recorder_and_cost(tmp_path):
    copy = tmp_path / "imagewidgets"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    table = copy / "api" / "endpoints.py"
    text = table.read_text("utf-8")
    assert text.count(ANCHOR) == 1, "the anchor moved; update ANCHOR"
    table.write_text(text.replace(ANCHOR, ANCHOR + THROWAWAY), "utf-8")  # one line in one file
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "IMAGEWIDGETS_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=240,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.split("RESULT:", 1)[1])
    assert ["/v1/images/sketches", ["POST"]] in out["twin_routes"]
    assert ["/v1/images/sketches", ["POST"]] in out["gateway_routes"]
    assert all("/v1/images/sketches" in urls for urls in out["batch_urls"])
    assert out["kind"] == "sketch"
    assert out["quote"] == ["sketches", True]  # priced by its declared cost rule
    # the client sends it by name; the twin routes it (a clear 501 until it has a handler), unlike an unknown URL
    assert out["client"] == [501, "not_implemented"]
    assert out["unknown"] == [404, "unknown_url"]


def test_request_types_and_their_endpoints_agree():
    for e in E.endpoints():
        if e.request:
            assert getattr(R, e.request).endpoint == e.name
    assert {cls.endpoint for cls in (R.GenerateRequest, R.EditRequest, R.VariationRequest, R.ResponsesRequest)} \
        <= {e.name for e in E.endpoints()}
    assert [e.url for e in E.endpoints() if e.batchable] == ["/v1/images/generations", "/v1/images/edits"]


def test_the_twin_has_a_handler_for_every_endpoint():
    from imagewidgets.offline.app import HANDLERS

    assert set(HANDLERS) == {e.name for e in E.endpoints()}


def test_the_gateway_serves_what_it_served_before():
    served = {(e.method, e.url, e.gateway) for e in E.gateway_routes()}
    assert served == {
        ("POST", "/v1/images/generations", "metered"), ("POST", "/v1/images/edits", "metered"),
        ("POST", "/v1/images/variations", "metered"), ("POST", "/v1/responses", "metered"),
        ("GET", "/v1/responses/{response_id}", "owned_get"), ("DELETE", "/v1/responses/{response_id}", "owned_get"),
        ("GET", "/v1/responses/{response_id}/input_items", "owned_get"),
        ("POST", "/v1/content_provenance_checks", "provenance_check"),
        ("POST", "/v1/files", "upload"), ("GET", "/v1/files", "list_files"),
        ("GET", "/v1/files/{file_id}", "owned_get"), ("DELETE", "/v1/files/{file_id}", "owned_get"),
        ("GET", "/v1/files/{file_id}/content", "owned_get"), ("GET", "/v1/models", "models"),
        ("GET", "/v1/models/{model}", "model"), ("POST", "/v1/batches", "batches"), ("GET", "/v1/batches", "batches"),
        ("GET", "/v1/batches/{batch_id}", "batches"), ("POST", "/v1/batches/{batch_id}/cancel", "batches")}
    from imagewidgets.gateway.proxy import Gateway

    assert all(callable(getattr(Gateway, e.gateway)) for e in E.gateway_routes())  # each names a method


def test_ids_in_paths_are_checked():
    import pytest

    from imagewidgets.api.errors import ParamError

    assert E.endpoint("retrieve_batch").format(batch_id="batch_1") == "/batches/batch_1"
    with pytest.raises(ParamError, match="batch_id"):
        E.endpoint("retrieve_batch").format(batch_id="../files")
    assert E.by_url("POST", "/v1/batches/batch_1/cancel") == E.endpoint("cancel_batch")


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string a module's code holds (docstrings aside), an f-string as its template with
    ``{}`` for each value: ``f"/files/{file_id}"`` reads ``/files/{}``."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    in_fstrings = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    out = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings | in_fstrings:
            out.append((n.lineno, n.value))
        elif isinstance(n, ast.JoinedStr):
            out.append((n.lineno, "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in n.values)))
    return out


def _spells_a_path(value: str) -> bool:
    """Whether a string is (or starts) an API path: under ``/v1``, a URL ending in it, or under a
    first segment of the table's paths (``/images/...``, ``/files/{}``); prose (with spaces) is not."""
    if any(c.isspace() for c in value):
        return False
    roots = {"/" + e.path.strip("/").split("/")[0] for e in E.endpoints()}
    first = re.match(r"/[A-Za-z_]+", value)
    return (value.startswith(E.API_PREFIX) or f"{E.API_PREFIX}/" in value or value.endswith(E.API_PREFIX)
            or (first is not None and first.group(0) in roots and value[first.end():first.end() + 1] in ("", "/", "?")))


def test_endpoint_paths_are_spelled_only_in_the_table():
    """Not as a string, nor as an f-string filling in an id (``endpoint(name).format(id=...)`` does,
    checking it), nor the ``/v1`` prefix (``API_PREFIX``, ``api_path``, ``is_api_url``)."""
    spelled = {p for e in E.endpoints() for p in (e.path, e.url)}
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "endpoints.py" and path.parent.name == "api":
            continue
        for line, value in _strings(ast.parse(path.read_text("utf-8"))):
            if value in spelled or _spells_a_path(value):
                found.append(f"{path.relative_to(PACKAGE)}:{line}: {value!r}")
    assert not found, "endpoint paths outside api/endpoints.py:\n" + "\n".join(found)


def test_the_path_check_sees_f_strings_urls_and_the_prefix():
    tree = ast.parse('x = f"/files/{file_id}"\ny = "https://api.openai.com/v1"\nz = p[len("/v1"):]\n'
                     'w = f"http://{host}:{port}/v1"\nv = "/models"\nok = "/dashboard"\n'
                     'prose = "see /v1/files for the list"\n')
    assert sorted(v for _, v in _strings(tree) if _spells_a_path(v)) == sorted(
        ["/files/{}", "https://api.openai.com/v1", "/v1", "http://{}:{}/v1", "/models"])


def test_a_gateway_forwards_the_path_under_the_prefix():
    assert E.api_path("/v1/files/file_1/content") == "/files/file_1/content"
    assert E.is_api_url("/v1/models") and not E.is_api_url("/v1x/models") and not E.is_api_url("/dashboard")
    import pytest

    with pytest.raises(ValueError):
        E.api_path("/dashboard")


def test_a_model_name_in_a_path_cannot_walk_to_another_endpoint():
    import pytest

    from imagewidgets.api.errors import ParamError

    assert E.endpoint("retrieve_model").format(model="ft:gpt-image-2:org::abc") == "/models/ft:gpt-image-2:org::abc"
    for bad in ("../files", "a/b", "..", "x" * 201):
        with pytest.raises(ParamError, match="model"):
            E.endpoint("retrieve_model").format(model=bad)
