"""Local HTTP servers implementing the documented request and response shapes of
Twilio's REST API (Messages.json, media) and Telegram's Bot API (sendMessage, getFile
and the file download at /file/bot<token>/<file_path>)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakeProvider:
    url: str
    requests: list[Recorded] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)
    # Telegram: file_id -> file_path (getFile); the bytes are media[file_path], so a
    # file known to getFile but missing from media fails to download (404).
    files: dict[str, str] = field(default_factory=dict)
    unsized: set[str] = field(default_factory=set)  # file_ids answered without file_size


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _record(self) -> Recorded:
        length = int(self.headers.get("Content-Length") or 0)
        recorded = Recorded(self.command, self.path, dict(self.headers), self.rfile.read(length))
        self.server.fake.requests.append(recorded)
        return recorded

    def _reply(self, status: int, payload: Any, kind: str = "application/json") -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        recorded = self._record()
        self.server.handle_get(self, recorded)

    def do_POST(self) -> None:
        recorded = self._record()
        self.server.handle_post(self, recorded)


class _Server(ThreadingHTTPServer):
    fake: FakeProvider

    def handle_get(self, handler: _Handler, request: Recorded) -> None:
        handler._reply(404, {"message": "not found"})

    def handle_post(self, handler: _Handler, request: Recorded) -> None:
        handler._reply(404, {"message": "not found"})


class _Twilio(_Server):
    account_sid = "AC00000000000000000000000000000001"
    auth_token = "twilio-auth-token"

    def _authorised(self, request: Recorded) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    def handle_get(self, handler: _Handler, request: Recorded) -> None:
        if request.path.startswith("/s3/"):  # where Twilio redirects media downloads
            data = self.fake.media.get(request.path.removeprefix("/s3/"))
            handler._reply(200 if data else 404, data or b"", "image/jpeg")
            return
        if not self._authorised(request):
            handler._reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
            return
        name = request.path.rsplit("/", 1)[-1]
        if name in self.fake.media:
            handler.send_response(307)
            handler.send_header("Location", f"{self.fake.url}/s3/{name}")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        handler._reply(404, {"code": 20404, "message": "not found", "status": 404})

    def handle_post(self, handler: _Handler, request: Recorded) -> None:
        path = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        if request.path != path or not self._authorised(request):
            handler._reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
            return
        form = request.form
        sid = f"SM{len(self.fake.requests):032d}"
        handler._reply(
            201,
            {
                "sid": sid,
                "account_sid": self.account_sid,
                "to": form.get("To"),
                "from": form.get("From"),
                "body": form.get("Body"),
                "status": "queued",
                "num_media": "0",
                "direction": "outbound-api",
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            },
        )


class _Telegram(_Server):
    token = "123456:TEST-token"
    # Bots may download files up to 20 MB (Bot API, getFile).
    download_limit = 20 * 1024 * 1024

    def _fail(self, handler: _Handler, status: int, description: str) -> None:
        handler._reply(status, {"ok": False, "error_code": status, "description": description})

    def handle_get(self, handler: _Handler, request: Recorded) -> None:
        path = urlsplit(request.path).path
        if path.startswith(f"/file/bot{self.token}/"):
            data = self.fake.media.get(unquote(path.removeprefix(f"/file/bot{self.token}/")))
            if data is None:
                self._fail(handler, 404, "Not Found")
            else:
                handler._reply(200, data, "application/octet-stream")
            return
        self.handle_post(handler, request)  # the Bot API takes GET with a query string too

    def handle_post(self, handler: _Handler, request: Recorded) -> None:
        parts = urlsplit(request.path)
        method = parts.path.removeprefix(f"/bot{self.token}/")
        if method == parts.path:
            self._fail(handler, 401, "Unauthorized")
            return
        kind = request.headers.get("Content-Type", "")
        if kind.startswith("application/json"):
            payload = request.json
        else:
            payload = dict(parse_qsl(parts.query)) | request.form
        if method == "getFile":
            self._get_file(handler, str(payload.get("file_id") or ""))
        elif method == "sendMessage":
            self._send_message(handler, payload)
        else:
            self._fail(handler, 404, "Not Found: method not found")

    def _get_file(self, handler: _Handler, file_id: str) -> None:
        file_path = self.fake.files.get(file_id)
        if file_path is None:
            self._fail(handler, 400, "Bad Request: invalid file_id")
            return
        size = len(self.fake.media.get(file_path, b""))
        if size > self.download_limit:
            self._fail(handler, 400, "Bad Request: file is too big")
            return
        result: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_path": file_path,
        }
        if size and file_id not in self.fake.unsized:
            result["file_size"] = size
        handler._reply(200, {"ok": True, "result": result})

    def _send_message(self, handler: _Handler, payload: dict[str, Any]) -> None:
        if not payload.get("chat_id") or not payload.get("text"):
            self._fail(handler, 400, "Bad Request: text is empty")
            return
        message = {
            "message_id": len(self.fake.requests),
            "date": 1767225600,
            "chat": {"id": int(payload["chat_id"]), "type": "private"},
            "text": payload["text"],
        }
        handler._reply(200, {"ok": True, "result": message})


@contextmanager
def _serve(server_class: type[_Server]) -> Iterator[FakeProvider]:
    server = server_class(("127.0.0.1", 0), _Handler)
    fake = FakeProvider(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.fake = fake
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def twilio() -> Any:
    return _serve(_Twilio)


def telegram() -> Any:
    return _serve(_Telegram)


TWILIO_SID = _Twilio.account_sid
TWILIO_TOKEN = _Twilio.auth_token
TELEGRAM_TOKEN = _Telegram.token
TELEGRAM_SECRET = "webhook-secret-A"  # the webhook's X-Telegram-Bot-Api-Secret-Token
