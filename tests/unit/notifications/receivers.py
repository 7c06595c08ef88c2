"""Local stand-ins for Slack, Asana and Resend that speak their documented wire formats, on real HTTP servers:

- Slack Web API ``POST /api/chat.postMessage``: Bearer bot token, JSON {channel, text, blocks}; answers HTTP 200
  {"ok": true, "channel", "ts"} or HTTP 200 {"ok": false, "error": "invalid_auth" | "channel_not_found"}.
- Asana ``POST /api/1.0/tasks``: Bearer token, {"data": {name, notes, projects, due_on}}; answers 201
  {"data": {"gid", ...}} or 401 {"errors": [{"message"}]}.
- Resend ``POST /emails``: Bearer key, JSON {from, to, subject, text}, ``Idempotency-Key``; answers 200 {"id"}
  (the same id again for a repeated key) or 401/403 {"statusCode", "name", "message"}.

Each can be down (nothing listening: connection refused), answer 500 or 429 for the next n requests, and keeps
every request it got. ``delivered`` is what a receiver that de-duplicates by idempotency key would keep.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SLACK_TOKEN = "xoxb-1111-2222-slack-secret-token"
SLACK_CHANNEL = "C0LEADS01"
ASANA_TOKEN = "2/1200000000/asana-secret-token-9876"
ASANA_PROJECT = "1207000000000001"
RESEND_KEY = "re_resend_secret_key_4242"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    status: int = 0


@dataclass
class Receiver:
    kind: str  # slack | asana | resend
    port: int = 0
    requests: list[Received] = field(default_factory=list)
    fail_next: int = 0  # the next n requests get fail_status
    fail_status: int = 500
    retry_after: str | None = None
    _server: ThreadingHTTPServer | None = None
    _ids: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if not self.port:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                self.port = s.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                got = Received("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                status, answer, headers = receiver._answer(got)
                got.status = status
                with receiver._lock:
                    receiver.requests.append(got)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # ------------------------------------------------------------ what each service answers

    def _answer(self, got: Received) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                headers = {"Retry-After": self.retry_after} if self.retry_after else {}
                return self.fail_status, {"ok": False, "error": "internal_error"}, headers
        return getattr(self, f"_{self.kind}")(got)

    def _slack(self, got: Received):
        if got.path != "/api/chat.postMessage":
            return 404, {"ok": False, "error": "unknown_method"}, {}
        if got.headers.get("authorization") != f"Bearer {SLACK_TOKEN}":
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        if not got.headers.get("content-type", "").startswith("application/json"):
            return 200, {"ok": False, "error": "invalid_form_data"}, {}
        if got.body.get("channel") != SLACK_CHANNEL:
            return 200, {"ok": False, "error": "channel_not_found"}, {}
        if not got.body.get("text") and not got.body.get("blocks"):
            return 200, {"ok": False, "error": "no_text"}, {}
        return 200, {"ok": True, "channel": SLACK_CHANNEL, "ts": f"1733300000.{len(self.requests):06d}",
                     "message": {"text": got.body.get("text")}}, {}

    def _asana(self, got: Received):
        if got.path != "/api/1.0/tasks":
            return 404, {"errors": [{"message": "No matching route for request"}]}, {}
        if got.headers.get("authorization") != f"Bearer {ASANA_TOKEN}":
            return 401, {"errors": [{"message": "Not Authorized"}]}, {}
        data = got.body.get("data") or {}
        if data.get("projects") != [ASANA_PROJECT]:
            return 400, {"errors": [{"message": "projects: Not a recognized ID"}]}, {}
        gid = str(1208000000000000 + len(self.requests))
        return 201, {"data": {"gid": gid, "resource_type": "task", "name": data.get("name"),
                              "permalink_url": f"https://app.asana.com/0/{ASANA_PROJECT}/{gid}"}}, {}

    def _resend(self, got: Received):
        if got.path != "/emails":
            return 404, {"statusCode": 404, "name": "not_found", "message": "Route not found"}, {}
        if got.headers.get("authorization") != f"Bearer {RESEND_KEY}":
            return 403, {"statusCode": 403, "name": "validation_error", "message": "API key is invalid"}, {}
        for required in ("from", "to", "subject"):
            if not got.body.get(required):
                return 422, {"statusCode": 422, "name": "missing_required_field",
                             "message": f"Missing `{required}` field."}, {}
        key = got.headers.get("idempotency-key")
        with self._lock:
            email_id = self._ids.setdefault(key, str(uuid.uuid4())) if key else str(uuid.uuid4())
        return 200, {"id": email_id}, {}

    # ------------------------------------------------------------ what arrived

    def key_of(self, got: Received) -> str | None:
        if self.kind == "slack":
            return ((got.body.get("metadata") or {}).get("event_payload") or {}).get("idempotency_key")
        if self.kind == "asana":
            notes = (got.body.get("data") or {}).get("notes", "")
            return notes.rsplit("Reference: ", 1)[-1] if "Reference: " in notes else None
        return got.headers.get("idempotency-key")

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.requests if r.status in (200, 201) and (self.kind != "slack" or self._slack_ok(r))]

    def _slack_ok(self, got: Received) -> bool:
        return got.headers.get("authorization") == f"Bearer {SLACK_TOKEN}" and got.body.get("channel") == SLACK_CHANNEL

    @property
    def delivered(self) -> dict[str, Received]:
        """Accepted requests de-duplicated by idempotency key, as a careful receiver keeps them."""
        kept: dict[str, Received] = {}
        for got in self.accepted:
            kept.setdefault(self.key_of(got) or f"no-key-{id(got)}", got)
        return kept
