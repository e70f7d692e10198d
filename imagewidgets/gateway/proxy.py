"""The participants' side of the gateway: ``/v1/...`` as on api.openai.com, forwarded to the upstream
with the teacher's key after the class rules, the participant's limits and a budget reservation.

    participant token ─▶ who? revoked? paused? ─▶ body read (in time, within size), typed, ids checked
        (own ids only: anything unknown is 404) ─▶ allow-lists, ceilings set ─▶ rate / in-flight limits
        ─▶ reserve the upper-bound cost ─▶ upstream (teacher's key)
        ─▶ JSON: settle from ``usage``, record the ids it made │ stream: forwarded chunk by chunk,
           tapped on the side, settled at its end, released (with an error event) if the upstream
           broke off, charged if the participant cut it

Every ledger row is closed before its request's handling ends: settled, released, or (a crash or
cancellation after the upstream may have it) charged the reservation. Only the routes below are
served; ``files.list`` lists the participant's own files, the Batch API is refused by name, and
anything else under ``/v1`` answers 404. Upstream error bodies are forwarded with the key scrubbed
out; a refused key becomes a 502 that tells the participant to ask the teacher.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..api import _http
from ..api.config import Secret
from ..api.endpoints import API_PREFIX, Endpoint, api_path, endpoint, gateway_routes, route
from ..api.errors import ParamError
from ..api.models import get_model
from . import moderation
from .bodies import FORWARDED_HEADERS, MAX_BODY_BYTES, check_fields, check_headers, first_text, parse_body, read_body, references
from .line import QueuedStream, queue_header, send_in_line, ticket_for
from .pricing import quote, settle_images, settle_response
from .queue import FairQueue, KeyLimits
from .relay import Call, RelayResponse
from .rules import ClassRules, Limiter, Refusal
from .store import GatewayStore, Participant
from .tap import SSETap

__all__ = ["Gateway", "MAX_BODY_BYTES"]

log = logging.getLogger("imagewidgets.gateway")

_FORWARD_RESPONSE_HEADERS = ("content-type", "x-request-id", "retry-after", "retry-after-ms", "openai-processing-ms",
                             "x-imagewidgets-backend")
_THUMB_PX = 320


class Gateway:
    """The proxy's state: the store, the upstream and its key, the in-memory limiter."""

    def __init__(self, store: GatewayStore, upstream_url: str, api_key: Secret | str, *,
                 organization: str | None = None, project: str | None = None) -> None:
        self.store = store
        self.upstream_url = upstream_url.rstrip("/")
        self._key = api_key if isinstance(api_key, Secret) else Secret(api_key)
        self._key_bytes = self._key.reveal().encode() if self._key else b""
        self._org = organization
        self._project = project
        self.limiter = Limiter()
        #: the class's line in front of the key (gateway/queue.py); limits read on every request
        self.queue = FairQueue(lambda: KeyLimits.from_json(self.store.get_setting("key_limits")))
        self._client: Any = None
        self._tasks: set[asyncio.Task] = set()

    # -- settings read on every request, so a change from the dashboard or the CLI acts at once ------
    @property
    def rules(self) -> ClassRules:
        return ClassRules.from_json(self.store.get_setting("rules"))

    @property
    def paused(self) -> bool:
        return bool(self.store.get_setting("paused", False))

    def routes(self) -> list[Route]:
        return [
            # one route per endpoint declared with a gateway handler (api/endpoints.py); the rest is 404
            *(Route(route(e), self._handler(e), methods=[e.method]) for e in gateway_routes()),
            Route(f"{API_PREFIX}/{{rest:path}}", self.not_served, methods=["GET", "POST", "DELETE", "PUT", "PATCH"]),
        ]

    @property
    def client(self):
        if self._client is None:
            self._client = _http.new_upstream_client(self.upstream_url)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    # -- the door -------------------------------------------------------------------------------------
    def participant(self, request: Request) -> Participant:
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if not token:
            raise Refusal(401, "This workshop gateway needs your participant token as the API key: set "
                          "OPENAI_API_KEY to the token on your slip (or %imagine_config --api-key ...).",
                          code="missing_api_key")
        who = self.store.participant_for_token(token)
        if who is None:
            raise Refusal(401, "This token is not one of this class's participant tokens. Check the token on "
                          "your slip (it starts with iwp_).", code="invalid_api_key")
        if who.revoked:
            raise Refusal(401, f"The teacher has switched off the token of {who.label}. Ask the teacher.",
                          code="token_revoked")
        if self.paused:
            raise Refusal(503, "The teacher has paused the class for a moment. Wait until they resume it, "
                          "then run your cell again.", code="class_paused", type="server_error",
                          headers={"retry-after": "30", "x-should-retry": "false"})
        return who

    def _refuse(self, refusal: Refusal, who: Participant | None = None, what: str | None = None) -> Response:
        if who is not None and refusal.code:  # the dashboard lists it: who, what, why
            self.store.note_refusal(who.id, refusal.code, refusal.message, what)
        log.info("%s refused %s: %s", who.label if who else "-", refusal.status, refusal.code)
        headers = {"x-imagewidgets-gateway": "class", **refusal.headers}
        return Response(refusal.content(), status_code=refusal.status, media_type="application/json",
                        headers=headers)

    # -- the metered endpoints --------------------------------------------------------------------------
    def _handler(self, e: Endpoint) -> Any:
        """The method that serves ``e`` (its declared ``gateway``), told which endpoint it is."""
        method = getattr(self, e.gateway or "not_served")
        if e.gateway in ("metered", "owned_get"):
            async def serve(request: Request) -> Response:
                return await method(request, e)
            return serve
        return method

    async def metered(self, request: Request, e: Endpoint) -> Response:
        endpoint = e.name
        who = None
        what = endpoint
        try:
            who = self.participant(request)
            check_headers(request)
            body = await read_body(request)
            fields, images = await parse_body(request, body)
            check_fields(endpoint, fields,
                         multipart=request.headers.get("content-type", "").startswith("multipart/form-data"))
            if endpoint == "responses" and fields.get("background") not in (None, False):
                # the gateway meters a call when it answers; a background turn answers "queued", unpriced
                raise Refusal(400, "The class gateway does not run background Responses turns (background=true): "
                              "it charges each call from the usage in its answer. Leave completion_window out.",
                              param="background", code="unsupported_value")
            previous = self._check_references(who, fields)
            rules = self.rules
            if endpoint == "responses":
                refusal = rules.check_response(fields)
                if refusal is not None:
                    raise refusal
                bounded = rules.bound_response(fields)
                if bounded != fields:  # the ceilings go upstream with the request, so its cost has one
                    fields, body = bounded, json.dumps(bounded).encode()
            q = quote(endpoint, fields, images, previous=previous)
            what = _what(endpoint, q.asked)
            refusal = rules.check(q.asked)
            if refusal is not None:
                raise refusal
            self.limiter.acquire(who.id, rules)
        except Refusal as r:
            return self._refuse(r, who, what)
        handed_over = False
        try:
            usd = q.usd * max(1.0, rules.reserve_margin)
            res = self.store.reserve(who.id, usd, endpoint=endpoint, model=q.model, stream=q.stream,
                                     class_cap_usd=rules.total_cap_usd)
            if res.refused:
                return self._refuse(_money_refusal(res.refused, usd, res.used_usd, res.limit_usd), who, what)
            assert res.id is not None  # a reservation that was not refused has its ledger row
            call = Call(who, q, res.id, fields, reserved_usd=usd)
            try:
                response = await self._forward(call, request, body)
            except BaseException as e:  # a crash or a cancellation: the row is closed now, not at restart
                self.abandon(call, e)
                raise
            handed_over = isinstance(response, (RelayResponse, QueuedStream))
            return response
        finally:
            if not handed_over:
                self.limiter.release(who.id)

    def abandon(self, call: Call, exc: BaseException) -> None:
        """Close the ledger row of a request whose handling failed: released when it cannot have reached
        the upstream, else charged in full (the upstream may bill it; the budget errs on its side)."""
        if call.stage == "before" or (call.stage == "sending" and isinstance(exc, Exception)):
            self.store.release(call.ledger_id, None, f"gateway error before forwarding ({type(exc).__name__})")
        else:
            self.store.settle(call.ledger_id, call.reserved_usd, 0,
                              f"gateway error after forwarding ({type(exc).__name__}): charged the reservation")

    def _check_references(self, who: Participant, fields: dict) -> dict | None:
        """Every id a body names must be the participant's own; answers as if unknown otherwise."""
        previous = None
        prev_id = fields.get("previous_response_id")
        if prev_id is not None:
            if not isinstance(prev_id, str):
                raise Refusal(400, "Invalid type for 'previous_response_id': expected a string.",
                              param="previous_response_id", code="invalid_type")
            found = self.store.owner(prev_id)
            if found is None or found[0] != who.id or found[1] != "response":
                raise Refusal(404, f"Previous response with id '{prev_id}' not found.",
                              param="previous_response_id", code="previous_response_not_found")
            previous = found[2]
        for kind, object_id, param in references(fields):
            if not self.store.owns(who.id, object_id):
                message = {"file": f"No such File object: {object_id}",
                           "conversation": f"Conversation with id '{object_id}' not found.",
                           "prompt": f"Prompt with id '{object_id}' not found.",
                           "vector_store": f"Vector store with id '{object_id}' not found.",
                           "container": f"Container with id '{object_id}' not found."}.get(
                    kind, f"Item with id '{object_id}' not found.")
                raise Refusal(404, message, param=param, code=None)
        return previous

    async def _forward(self, call: Call, request: Request, body: bytes) -> Response:
        ticket = ticket_for(self.queue, call)
        if call.quote.stream and self.queue.would_wait(ticket):  # its place is said before the first frame
            return QueuedStream(self, call, ticket, request, body)
        try:  # the line (gateway/line.py) sets call.stage: "before" in line, "sending", "answered"
            upstream = await send_in_line(self, call, ticket, request, body)
        except Refusal as r:
            return self._failed(call, None, r)
        except _http.CONNECTION_ERRORS as e:
            return self._failed(call, None, _unreachable(e))
        if upstream.status_code >= 400:
            return await self._upstream_error(call, upstream)
        if upstream.headers.get("content-type", "").startswith("text/event-stream"):
            return RelayResponse(self, call, upstream)
        try:
            content = await upstream.aread()
        except _http.CONNECTION_ERRORS as e:
            return self._failed(call, upstream.status_code, _unreachable(e))
        finally:
            await upstream.aclose()
        try:
            answer = json.loads(content)
        except ValueError:
            answer = {}
        self.settle(call, answer if call.quote.endpoint != "responses" else None,
                     answer if call.quote.endpoint == "responses" else None, upstream.status_code)
        self.note_moderation(call, answer)
        return Response(self.scrub(content), status_code=upstream.status_code,
                        headers={**self.answer_headers(upstream), **queue_header(ticket)})

    def note_moderation(self, call: Call, answer: Any) -> None:
        """A moderation refusal in the upstream's answer, noted for the dashboard (gateway/moderation.py)."""
        if isinstance(answer, bytes):
            try:
                answer = json.loads(answer)
            except ValueError:
                return
        moderation.note(self.store, call.participant.id, call.quote.endpoint, answer)

    def _failed(self, call: Call, status: int | None, refusal: Refusal) -> Response:
        self.store.release(call.ledger_id, status, refusal.code or "upstream failed")
        log.info("%s %s upstream failed (%s): not charged", call.participant.label, call.quote.endpoint,
                 refusal.code)
        return self._refuse(refusal)

    async def _upstream_error(self, call: Call, upstream: Any) -> Response:
        content = await _http.read_error_body(upstream)
        status = upstream.status_code
        self.store.release(call.ledger_id, status, f"upstream answered {status}")
        self.note_moderation(call, content)
        log.info("%s %s upstream answered %s: not charged", call.participant.label, call.quote.endpoint, status)
        if status == 401:
            return self._refuse(Refusal(502, "The image service refused the gateway's key. This is for the "
                                        "teacher to fix; you were not charged.", code="upstream_key_refused",
                                        type="server_error", headers={"x-should-retry": "false"}))
        return Response(self.scrub(content) or Refusal(status, f"The image service answered {status}.").content(),
                        status_code=status, headers=self.answer_headers(upstream))

    # -- settling ---------------------------------------------------------------------------------------
    def settle(self, call: Call, images_answer: dict | None, response: dict | None, status: int,
                tap: SSETap | None = None) -> float:
        q = call.quote
        try:
            usd, pictures = self._cost(call, images_answer, response, tap)
        except Exception as e:  # an answer the gateway cannot read: the reservation is the charge
            log.info("%s %s unreadable usage (%s)", call.participant.label, q.endpoint, type(e).__name__)
            usd, pictures = None, []
        note = None
        reserved = self._reserved(call)
        if usd is None:
            usd, note = reserved, "no usage reported: charged the reservation"
        elif usd > reserved + 1e-12:
            note = f"cost {usd:.6f} above the reservation {reserved:.6f}"
        self.store.settle(call.ledger_id, usd, status, note)
        log.info("%s %s %s: charged $%.4f", call.participant.label, q.endpoint, q.model or "-", usd)
        if pictures:
            self.spawn(self._gallery(call, pictures))
        return usd

    def _cost(self, call: Call, images_answer: dict | None, response: dict | None,
              tap: SSETap | None) -> tuple[float | None, list]:
        q = call.quote
        if q.endpoint == "responses":
            response = response if isinstance(response, dict) else {}
            usd = settle_response(q.model, response)
            output: list = response["output"] if isinstance(response.get("output"), list) else []
            pictures: list = [o.get("result") for o in output
                        if isinstance(o, dict) and o.get("type") == "image_generation_call"
                        and isinstance(o.get("result"), str)]
            self._own_response(call, response)
            return usd, pictures
        answer = images_answer if isinstance(images_answer, dict) else {}
        usages = tap.usages if tap is not None else ([answer["usage"]] if isinstance(answer.get("usage"), dict) else [])
        data: list = answer["data"] if isinstance(answer.get("data"), list) else []
        count = tap.completed_images if tap is not None else len(data)
        quality = answer.get("quality") or call.fields.get("quality")
        size = answer.get("size") or call.fields.get("size")
        usd = settle_images(q.model, usages, quality=quality if isinstance(quality, str) else None,
                            size=size if isinstance(size, str) else None, n=max(1, count))
        found: list = tap.images if tap is not None else [d.get("b64_json") for d in data
                                                          if isinstance(d, dict) and isinstance(d.get("b64_json"), str)]
        return usd, found

    def _reserved(self, call: Call) -> float:
        return call.reserved_usd

    def _own_response(self, call: Call, response: dict) -> None:
        """The response and every item of its output become the participant's (so a later turn may name
        them: ``previous_response_id``, an ``item_reference``, an item passed back)."""
        pid = call.participant.id
        if isinstance(response.get("id"), str):
            self.store.own(pid, "response", response["id"], {"text_chars": call.quote.text_chars,
                                                             "images": call.quote.images})
        for item in response.get("output") or []:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                self.store.own(pid, "call" if item.get("type") == "image_generation_call" else "item", item["id"])

    def spawn(self, coro: Any) -> None:
        """Run ``coro`` beside the request (kept referenced until done): galleries, stream pumps."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _gallery(self, call: Call, pictures: list[str]) -> None:
        """Thumbnails for the teacher's gallery, made in a worker thread after the participant has the image."""
        prompt = call.fields.get("prompt") if isinstance(call.fields.get("prompt"), str) else first_text(
            call.fields.get("input"))
        for b64 in pictures:
            try:
                thumb = await anyio.to_thread.run_sync(_thumbnail, b64)
            except Exception:  # not a raster image (svg): no thumbnail
                continue
            self.store.add_image(call.participant.id, prompt, "image/jpeg", thumb)

    # -- the other routes -------------------------------------------------------------------------------
    async def owned_get(self, request: Request, e: Endpoint) -> Response:
        """An endpoint naming one participant's id in its path (``owns``): served to them only."""
        who = None
        try:
            who = self.participant(request)
            object_id = request.path_params[e.placeholders[0]]
            kind = e.owns
            found = self.store.owner(object_id)
            if found is None or found[0] != who.id or found[1] != kind:
                message = (f"Response with id '{object_id}' not found." if kind == "response"
                           else f"No such File object: {object_id}")
                raise Refusal(404, message, param="id" if kind == "file" else "response_id", code=None)
        except Refusal as r:
            return self._refuse(r, who)
        return await self._simple(request, None)

    async def upload(self, request: Request) -> Response:
        """An upload counts against the participant's rate and in-flight limits like any request (it is
        free, but thirty in a row would fill the teacher's storage)."""
        who = None
        try:
            who = self.participant(request)
            check_headers(request)
            rules = self.rules
            self.limiter.acquire(who.id, rules)
        except Refusal as r:
            return self._refuse(r, who)
        try:
            try:
                body = await read_body(request)
            except Refusal as r:
                return self._refuse(r, who)
            response = await self._simple(request, body)
        finally:
            self.limiter.release(who.id)
        if response.status_code < 300:
            try:
                file_id = json.loads(bytes(response.body)).get("id")
            except (ValueError, AttributeError):
                file_id = None
            if file_id:
                self.store.own(who.id, "file", str(file_id))
        return response

    async def provenance_check(self, request: Request) -> Response:
        """A content provenance check: free on the API, so forwarded unmetered for any participant."""
        who = None
        try:
            who = self.participant(request)
            body = await read_body(request)
        except Refusal as r:
            return self._refuse(r, who)
        return await self._simple(request, body)

    async def models(self, request: Request) -> Response:
        try:
            self.participant(request)
        except Refusal as r:
            return self._refuse(r)
        response = await self._simple(request, None)
        rules = self.rules
        if response.status_code == 200 and (rules.models or rules.mainline_models):
            def allowed(name: Any) -> bool:
                if get_model(str(name)) is not None:
                    return not rules.models or name in rules.models
                return not rules.mainline_models or name in rules.mainline_models

            listing = json.loads(bytes(response.body))
            listing["data"] = [m for m in listing.get("data") or [] if isinstance(m, dict) and allowed(m.get("id"))]
            return Response(json.dumps(listing).encode(), media_type="application/json",
                            headers={k: v for k, v in response.headers.items() if k == "x-request-id"})
        return response

    async def list_files(self, request: Request) -> Response:
        """``files.list``: the participant's own files only (the upstream's list holds everyone's), each
        retrieved from the upstream, newest first; ``purpose`` and ``limit`` are honoured."""
        who = None
        try:
            who = self.participant(request)
            limit = request.query_params.get("limit", "100")
            if not limit.isdigit() or not 1 <= int(limit) <= 10_000:
                raise Refusal(400, "Invalid 'limit': expected an integer between 1 and 10000.", param="limit",
                              code="invalid_value")
        except Refusal as r:
            return self._refuse(r, who)
        purpose = request.query_params.get("purpose")
        found = []
        for file_id in self.store.owned_ids(who.id, "file")[:int(limit)]:
            try:
                path = endpoint("retrieve_file").format(file_id=file_id)
            except ParamError:  # the upstream once answered an id no path may hold: not a file to fetch
                continue
            answer = await self._upstream_json("GET", path)
            if isinstance(answer, Response):
                return answer
            if answer is not None and (purpose is None or answer.get("purpose") == purpose):
                found.append(answer)
        body = {"object": "list", "data": found, "first_id": found[0]["id"] if found else None,
                "last_id": found[-1]["id"] if found else None, "has_more": False}
        return Response(self.scrub(json.dumps(body).encode()), media_type="application/json",
                        headers={"x-imagewidgets-gateway": "class"})

    async def _fetch(self, method: str, path: str, **kw: Any) -> tuple[Any, bytes] | Response:
        """A small unmetered upstream request read whole: ``(answer, bytes)``, or the refusal to send
        when the upstream cannot be reached."""
        try:
            upstream = await _http.open_upstream(self.client, method, path, **kw)
            try:
                content = await upstream.aread()
            finally:
                await upstream.aclose()
        except _http.CONNECTION_ERRORS as e:
            return self._refuse(_unreachable(e))
        return upstream, content

    async def _upstream_json(self, method: str, path: str) -> dict | None | Response:
        """A small upstream GET read as JSON: the object, None when it is gone (404), or the answer to send."""
        got = await self._fetch(method, path, headers=self.upstream_headers(None))
        if isinstance(got, Response):
            return got
        upstream, content = got
        if upstream.status_code == 404:
            return None
        if upstream.status_code >= 400:
            return Response(self.scrub(content), status_code=upstream.status_code,
                            headers=self.answer_headers(upstream))
        try:
            answer = json.loads(content)
        except ValueError:
            return None
        return answer if isinstance(answer, dict) else None

    async def model(self, request: Request) -> Response:
        """``models.retrieve``: a model the class may use (image or mainline), as the upstream describes it;
        any other answers as the API does for a model one has no access to."""
        who = None
        try:
            who = self.participant(request)
            name = request.path_params["model"]
            rules = self.rules
            allowed = (not rules.models or name in rules.models) if get_model(name) is not None else (
                not rules.mainline_models or name in rules.mainline_models)
            if not allowed:
                raise Refusal(404, f"The model '{name}' does not exist or you do not have access to it (this "
                              "class does not use it).", code="model_not_found", param="model")
        except Refusal as r:
            return self._refuse(r, who)
        return await self._simple(request, None)

    async def batches(self, request: Request) -> Response:
        """The Batch API is refused, by name: a batch's cost is known only when it has run (up to a day
        later, with no usage to watch while it runs), so it cannot be held against a budget."""
        who = None
        try:
            who = self.participant(request)
        except Refusal as r:
            return self._refuse(r, who)
        return self._refuse(Refusal(403, "The class gateway does not run Batch API jobs: a batch is priced only "
                                    "once it has run, up to a day later, so it cannot be held against your "
                                    "budget. Run the requests one by one (each is priced before it is sent), "
                                    "or ask the teacher.", code="batches_not_served",
                                    type="invalid_request_error", headers={"x-should-retry": "false"}), who)

    async def not_served(self, request: Request) -> Response:
        return self._refuse(Refusal(404, f"The class gateway does not serve {request.method} {request.url.path}: "
                                    "it serves image generation, edits, variations, the Responses API, files, "
                                    "models and provenance checks.",
                                    code="unknown_url"))

    async def _simple(self, request: Request, body: bytes | None) -> Response:
        """Forward a small unmetered request and answer with the upstream's answer (key scrubbed)."""
        try:
            check_headers(request)
        except Refusal as r:
            return self._refuse(r)
        got = await self._fetch(request.method, _upstream_path(request), content=body,
                                headers=self.upstream_headers(request), params=dict(request.query_params) or None)
        if isinstance(got, Response):
            return got
        upstream, content = got
        if upstream.status_code == 401:
            return self._refuse(Refusal(502, "The image service refused the gateway's key. This is for the "
                                        "teacher to fix.", code="upstream_key_refused", type="server_error"))
        return Response(self.scrub(content), status_code=upstream.status_code,
                        headers=self.answer_headers(upstream))

    # -- headers and secrets ----------------------------------------------------------------------------
    def upstream_headers(self, request: Request | None) -> dict[str, str]:
        headers = {"authorization": f"Bearer {self._key.reveal()}", "accept-encoding": "identity",
                   "user-agent": "imagewidgets-gateway/0.1"}
        for name in FORWARDED_HEADERS:
            if request is not None and name in request.headers:
                headers[name] = request.headers[name]
        if self._org:
            headers["openai-organization"] = self._org
        if self._project:
            headers["openai-project"] = self._project
        return headers

    @staticmethod
    def answer_headers(upstream: Any) -> dict[str, str]:
        headers = {k: v for k, v in upstream.headers.items()
                   if k.lower() in _FORWARD_RESPONSE_HEADERS or k.lower().startswith("x-ratelimit-")}
        headers["x-imagewidgets-gateway"] = "class"
        return headers

    def scrub(self, data: bytes) -> bytes:
        """The key never leaves: should the upstream echo it, it is cut out of what is forwarded."""
        if self._key_bytes and self._key_bytes in data:
            return data.replace(self._key_bytes, b"[redacted]")
        return data


# --- helpers -------------------------------------------------------------------------------------------


def _money_refusal(which: str, usd: float, used: float, limit: float) -> Refusal:
    if which == "class_cap":
        message = (f"The class has used its whole budget (${limit:.2f} for everyone). Ask the teacher.")
    else:
        left = max(0.0, limit - used)
        message = (f"Your workshop budget is used up: this request could cost up to ${usd:.4f} and you have "
                   f"${left:.4f} of ${limit:.2f} left. Try quality='low', a smaller size or fewer images, "
                   "or ask the teacher for more.")
    return Refusal(429, message, code="insufficient_quota", type="insufficient_quota",
                   headers={"x-should-retry": "false"})


def _unreachable(e: Exception) -> Refusal:
    return Refusal(502, f"The gateway could not reach the image service ({type(e).__name__}). You were not "
                   "charged; try again in a moment.", code="upstream_unreachable", type="server_error")


def _upstream_path(request: Request) -> str:
    """The path under the upstream's base URL (which already ends in /v1)."""
    return api_path(request.url.path)


def _thumbnail(b64: str) -> bytes:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(b64))) as im:
        im.thumbnail((_THUMB_PX, _THUMB_PX))
        out = io.BytesIO()
        im.convert("RGB").save(out, format="JPEG", quality=80)
        return out.getvalue()


def _what(endpoint: str, asked: dict) -> str:
    """A refused request in a few words for the dashboard: "generations gpt-image-2 1024x1024 high"."""
    bits = [str(asked.get(k)) for k in ("model", "size", "quality") if asked.get(k) is not None]
    return " ".join([endpoint, *bits])[:200]
