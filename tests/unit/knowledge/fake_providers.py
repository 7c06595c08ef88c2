"""Local stand-ins for the optional cloud providers, on 127.0.0.1, speaking their wire formats.

``FakeProvider`` serves OpenAI's ``POST /v1/chat/completions``, Tavily's ``POST /search`` and Gemini's
``POST /v1beta/models/{model}:generateContent`` (File Search answers with grounding metadata). ``mode`` decides the
reply: "ok", "error" (HTTP 500) or "hang" (no reply until the server stops). Every request is kept for asserts.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler

import pytest

from quantum_voice.core.resilience import reset_breakers
from quantum_voice.services.knowledge import filesearch, rephrasing
from tests.local_server import LocalHTTPServer


class FakeProvider(LocalHTTPServer):
    def __init__(self) -> None:
        self.mode = "ok"
        self.reply = "The HOA fee is four hundred and fifty dollars a month."
        self.web_results = [{"title": "Harbor View weather", "url": "https://example.org/weather",
                             "content": "Tomorrow will be sunny with a high of 24 degrees. Light wind.",
                             "score": 0.91, "raw_content": None}]
        self.web_answer: str | None = "Tomorrow will be sunny, with a high of 24 degrees."
        self.gemini_reply = "Pets are welcome: up to two cats or dogs per home."
        self.gemini_chunks = [{"retrievedContext": {
            "title": "pet-policy.pdf", "text": "Up to two cats or dogs are allowed in each home.",
            "fileSearchStore": "fileSearchStores/harbor-view", "pageNumber": 2}}]
        self.requests: list[dict] = []
        self._release = threading.Event()
        super().__init__(self._handler())

    def stop(self) -> None:
        self._release.set()
        super().stop()

    def paths(self) -> list[str]:
        return [r["path"] for r in self.requests]

    def _respond(self, path: str, body: dict) -> tuple[int, dict]:
        if path == "/v1/chat/completions":
            return 200, {"id": "chatcmpl-fake", "object": "chat.completion", "created": 1764000000,
                         "model": body.get("model", "fake"),
                         "choices": [{"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant", "content": self.reply}}],
                         "usage": {"prompt_tokens": 100, "completion_tokens": 12, "total_tokens": 112}}
        if path == "/search":
            return 200, {"query": body.get("query"), "answer": self.web_answer, "images": [],
                         "results": self.web_results, "response_time": 0.12, "request_id": "fake"}
        gemini = re.fullmatch(r"/v1beta/models/([^/:?]+):generateContent", path)
        if gemini:
            grounding = {"groundingChunks": self.gemini_chunks, "groundingSupports": [
                {"segment": {"startIndex": 0, "endIndex": len(self.gemini_reply), "text": self.gemini_reply},
                 "groundingChunkIndices": list(range(len(self.gemini_chunks)))}]} if self.gemini_chunks else {}
            candidate = {"content": {"role": "model", "parts": [{"text": self.gemini_reply}]},
                         "finishReason": "STOP", "index": 0}
            if grounding:
                candidate["groundingMetadata"] = grounding
            return 200, {"candidates": [candidate], "modelVersion": gemini.group(1), "responseId": "fake",
                         "usageMetadata": {"promptTokenCount": 90, "candidatesTokenCount": 14,
                                           "totalTokenCount": 104}}
        return 404, {"detail": "not found"}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append({"path": self.path, "headers": headers, "json": body})
                if fake.mode == "hang":
                    fake._release.wait(30)
                    return
                status, payload = (500, {"error": {"message": "boom"}}) if fake.mode == "error" else \
                    fake._respond(self.path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        return Handler


def _forget_provider_clients() -> None:
    rephrasing.reset_clients()
    filesearch.reset_clients()
    reset_breakers()


@pytest.fixture
def fake():
    """A running FakeProvider, with provider clients and circuit breakers fresh before and after."""
    server = FakeProvider().start()
    _forget_provider_clients()
    yield server
    server.stop()
    _forget_provider_clients()
