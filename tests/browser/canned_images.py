"""A canned Image API for browser tests, served over loopback: streamed generations and edits
whose frames are files the test wrote (photo-like PNGs about as heavy as the API's, 1.5-2.5 MB),
sent as the API sends them (SSE ``image_generation.partial_image`` ... ``completed``), paced.

The offline backend's procedural pictures compress to a tenth of that, so they cannot show what a
browser does with real frames on a busy machine. Copied next to a test notebook and imported
by its kernel::

    canned = CannedImages(Path("frames"), interval_s=1.0).start()   # frames/generate-1.png ...
    Client(base_url=canned.base_url, api_key="sk-canned")

``frames/<kind>-<k>.png`` (k = 1, 2, ...) are the partial frames and ``frames/<kind>-final.png``
the completed image, for kind ``generate`` (``/v1/images/generations``) and ``edit``
(``/v1/images/edits``); a request without ``stream`` gets ``frames/<kind>-final.png`` as JSON.
Every request is logged in ``requests`` (path, stream, partial_images).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

USAGE = {"input_tokens": 50, "input_tokens_details": {"text_tokens": 10, "image_tokens": 40},
         "output_tokens": 272, "total_tokens": 322}


class CannedImages:
    def __init__(self, frames: Path, interval_s: float = 1.0) -> None:
        self.frames = Path(frames)
        self.interval_s = interval_s
        self.requests: list[dict] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> "CannedImages":
        canned = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # e.g. GET /v1/models: this server has none
                self._json(404, {"error": {"message": "Unknown request URL", "type": "invalid_request_error",
                                           "param": None, "code": None}})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                kind = "edit" if self.path.endswith("/images/edits") else "generate"
                if not self.path.endswith(("/images/edits", "/images/generations")):
                    return self.do_GET()
                if self.headers.get("content-type", "").startswith("application/json"):
                    fields = json.loads(body)
                    stream, partials = fields.get("stream") is True, int(fields.get("partial_images") or 0)
                else:  # multipart: the form fields this server reads
                    stream = b'name="stream"\r\n\r\ntrue' in body
                    m = re.search(rb'name="partial_images"\r\n\r\n(\d)', body)
                    partials = int(m.group(1)) if m else 0
                canned.requests.append({"path": self.path, "stream": stream, "partial_images": partials})
                final = (canned.frames / f"{kind}-final.png").read_bytes()
                meta = {"size": "1024x1024", "quality": "high", "background": "opaque", "output_format": "png"}
                if not stream:
                    return self._json(200, {"created": int(time.time()), "data": [{"b64_json": _b64(final)}],
                                            **meta, "usage": USAGE})
                prefix = "image_edit" if kind == "edit" else "image_generation"
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("connection", "close")
                self.end_headers()
                for k in range(partials):
                    time.sleep(canned.interval_s)
                    frame = (canned.frames / f"{kind}-{k + 1}.png").read_bytes()
                    self._event(f"{prefix}.partial_image", {"type": f"{prefix}.partial_image", "b64_json": _b64(frame),
                                                            "partial_image_index": k, "created_at": int(time.time()),
                                                            **meta})
                time.sleep(canned.interval_s)
                self._event(f"{prefix}.completed", {"type": f"{prefix}.completed", "b64_json": _b64(final),
                                                    "created_at": int(time.time()), **meta, "usage": USAGE})

            def _event(self, name: str, data: dict) -> None:
                self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
                self.wfile.flush()

            def _json(self, status: int, data: dict) -> None:
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True, name="canned-images").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
