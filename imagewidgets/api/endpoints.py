"""Every HTTP endpoint imagewidgets speaks, declared once: one ``Endpoint`` a line of ``TABLE``.

The client's wire (``api/wire.py``) takes its method and path from here, the offline twin
(``offline/app.py``) its routes, the class gateway (``gateway/proxy.py``) what it meters, which ids
it records as the participant's and which it serves only to their owner, the Batch API its list of
batchable endpoints (``api/batches.py``, ``session/batch_submit.py``), the session recorder the
kind of turn a request makes, and the cost estimate which rule prices it. A new endpoint is one
line here (and, for the twin, its handler); ``tests/test_endpoints.py`` adds a throwaway one and
sees it everywhere::

    Endpoint("sketches", "POST", "/images/sketches", answer="images", cost="image", kind="sketch",
             gateway="metered", batchable=True),

    >>> from imagewidgets.api.endpoints import endpoint
    >>> endpoint("generations").url
    '/v1/images/generations'
    >>> endpoint("generations").path
    '/images/generations'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from .errors import ParamError

__all__ = ["Endpoint", "TABLE", "API_PREFIX", "endpoint", "endpoints", "by_url", "batch_urls", "kind_of",
           "gateway_routes", "route", "checked_id", "is_api_url", "api_path"]

#: what every path below is under, on api.openai.com and on the offline twin
API_PREFIX = "/v1"

Answer = Literal["images", "response", "items", "provenance", "file", "files", "bytes", "deleted", "batch",
                 "batches", "models", "model"]
Cost = Literal["image", "response"]
#: the class gateway's method that serves an endpoint (``gateway/proxy.py``)
GatewayRole = Literal["metered", "owned_get", "upload", "list_files", "models", "model", "provenance_check",
                      "batches"]


@dataclass(frozen=True)
class Endpoint:
    """One endpoint. ``name``: how the code names it (a request type's ``endpoint``, the turn's
    ``api``, the gateway ledger's ``endpoint``). ``method``/``path``: the HTTP call, ``path`` under
    ``/v1`` with ``{placeholders}`` for ids. ``request``: the request type's name (None: no typed
    request). ``answer``: what it answers with. ``form``: it also takes multipart. ``cost``: the
    rule that prices it (``image``: image tokens per image; ``response``: the Responses tool plus
    the mainline model's text; None: free). ``kind``: the turn kind the session records.
    ``gateway``: the class gateway's method that serves it (``metered``: priced, reserved and
    settled; ``owned_get``: only to the participant whose id it names; ``upload``: the id it answers
    becomes theirs; ``models``: filtered by the class's allow-list; ...; None: not served, a 404
    there). ``owns``: the kind
    of id in its path or answer that belongs to one participant (``response``, ``file``).
    ``batchable``: a line of a Batch API input file may target it.
    """

    name: str
    method: str
    path: str
    request: str | None = None
    answer: Answer = "images"
    form: bool = False
    cost: Cost | None = None
    kind: str | None = None
    gateway: GatewayRole | None = None
    owns: str | None = None
    batchable: bool = False

    @property
    def url(self) -> str:
        """The path as the server routes it: ``/v1/images/generations``."""
        return API_PREFIX + self.path

    def format(self, **ids: str) -> str:
        """The path with its ids filled in, each checked (``checked_id``): a server's odd answer
        never becomes a URL path."""
        missing = set(self.placeholders) - set(ids)
        if missing:
            raise TypeError(f"{self.name} needs {', '.join(sorted(missing))}")
        return self.path.format(**{k: checked_id(v, k, model=k == "model") for k, v in ids.items()})

    @property
    def placeholders(self) -> tuple[str, ...]:
        return tuple(re.findall(r"\{(\w+)", self.path))


TABLE: tuple[Endpoint, ...] = (
    Endpoint("generations", "POST", "/images/generations", request="GenerateRequest", cost="image",
             kind="generate", gateway="metered", batchable=True),
    Endpoint("edits", "POST", "/images/edits", request="EditRequest", form=True, cost="image", kind="edit",
             gateway="metered", batchable=True),
    Endpoint("variations", "POST", "/images/variations", request="VariationRequest", form=True, cost="image",
             kind="vary", gateway="metered"),
    Endpoint("responses", "POST", "/responses", request="ResponsesRequest", answer="response", cost="response",
             kind="respond", gateway="metered", owns="response"),
    Endpoint("retrieve_response", "GET", "/responses/{response_id}", answer="response", gateway="owned_get",
             owns="response"),
    Endpoint("delete_response", "DELETE", "/responses/{response_id}", answer="deleted", gateway="owned_get",
             owns="response"),
    Endpoint("cancel_response", "POST", "/responses/{response_id}/cancel", answer="response", owns="response"),
    Endpoint("list_input_items", "GET", "/responses/{response_id}/input_items", answer="items",
             gateway="owned_get", owns="response"),
    Endpoint("check_provenance", "POST", "/content_provenance_checks", answer="provenance", form=True,
             gateway="provenance_check"),
    Endpoint("upload_file", "POST", "/files", answer="file", form=True, gateway="upload", owns="file"),
    Endpoint("list_files", "GET", "/files", answer="files", gateway="list_files"),
    Endpoint("retrieve_file", "GET", "/files/{file_id}", answer="file", gateway="owned_get", owns="file"),
    Endpoint("delete_file", "DELETE", "/files/{file_id}", answer="deleted", gateway="owned_get", owns="file"),
    Endpoint("file_content", "GET", "/files/{file_id}/content", answer="bytes", gateway="owned_get", owns="file"),
    Endpoint("create_batch", "POST", "/batches", answer="batch", gateway="batches"),
    Endpoint("list_batches", "GET", "/batches", answer="batches", gateway="batches"),
    Endpoint("retrieve_batch", "GET", "/batches/{batch_id}", answer="batch", gateway="batches"),
    Endpoint("cancel_batch", "POST", "/batches/{batch_id}/cancel", answer="batch", gateway="batches"),
    Endpoint("list_models", "GET", "/models", answer="models", gateway="models"),
    Endpoint("retrieve_model", "GET", "/models/{model}", answer="model", gateway="model"),
)


def endpoints() -> tuple[Endpoint, ...]:
    """Every endpoint of the table (read at call time, so a test can add one)."""
    return TABLE


def endpoint(name: str) -> Endpoint:
    """The endpoint called ``name`` (``KeyError`` names the known ones)."""
    for e in TABLE:
        if e.name == name:
            return e
    raise KeyError(f"no endpoint {name!r}; known: {', '.join(e.name for e in TABLE)}")


def by_url(method: str, url: str) -> Endpoint | None:
    """The endpoint a request line targets (``POST``, ``/v1/images/edits``), or None."""
    for e in TABLE:
        if e.method == method and _pattern(e.url).fullmatch(url):
            return e
    return None


def batch_urls() -> tuple[str, ...]:
    """The URLs a Batch API input line may target (``/v1/images/generations``, ...)."""
    return tuple(e.url for e in TABLE if e.batchable)


def kind_of(name: str) -> str:
    """The kind of turn a request to endpoint ``name`` records (``generate``, ``edit``, ...)."""
    for e in TABLE:
        if e.name == name and e.kind:
            return e.kind
    return "generate"


def gateway_routes() -> tuple[Endpoint, ...]:
    """The endpoints the class gateway serves (the rest answer 404 there)."""
    return tuple(e for e in TABLE if e.gateway)


def route(e: Endpoint) -> str:
    """A starlette route path for ``e`` (``/v1/models/{model:path}``: model names may hold slashes)."""
    return e.url.replace("{model}", "{model:path}")


def is_api_url(path: str) -> bool:
    """Whether a request path is under the API (``/v1/...``), not the twin's or the gateway's own pages."""
    return path.startswith(API_PREFIX + "/")


def api_path(url: str) -> str:
    """The path under a base URL (which ends in ``/v1``) of a path as the server routes it:
    ``/v1/images/edits`` -> ``/images/edits`` (what a gateway forwards to its upstream)."""
    if not is_api_url(url):
        raise ValueError(f"{url[:80]!r} is not under {API_PREFIX}")
    return url[len(API_PREFIX):]


_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,200}$")
_MODEL = re.compile(r"^[A-Za-z0-9_.:\-]{1,200}$")  # fine-tuned names hold colons (ft:gpt-...:org::id)


def checked_id(value: Any, what: str, *, model: bool = False) -> str:
    """``value`` if it looks like an API object id (or a model name); a server's odd answer never
    becomes a URL path (no slash, no dot-dot walking to another endpoint)."""
    if not isinstance(value, str) or not (_MODEL if model else _ID).match(value) or value in (".", ".."):
        raise ParamError(what, value, "an id of letters, digits, '-', '_' or '.'" + (" (or ':')" if model else ""))
    return value


def _pattern(url: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{\w+\\\}", r"[^/]+", re.escape(url)))
