"""A local stand-in for the Gemini API's File Search store documents, on 127.0.0.1, speaking its wire format.

What the ``google-genai`` SDK does to keep a store in sync, as Google documents it:

- ``POST /upload/v1beta/{store}:uploadToFileSearchStore`` with ``X-Goog-Upload-Protocol: resumable`` and
  ``X-Goog-Upload-Command: start`` (JSON body: ``displayName``, ``mimeType``, ``customMetadata``; the size and
  type in ``X-Goog-Upload-Header-Content-Length`` / ``-Type``) answers an ``X-Goog-Upload-URL`` to send the bytes to;
- ``POST {upload url}`` with ``X-Goog-Upload-Command: upload, finalize`` and ``X-Goog-Upload-Offset`` carries the
  bytes and answers ``X-Goog-Upload-Status: final`` with a long-running operation (not done yet);
- ``GET /v1beta/{store}/upload/operations/{id}`` answers the operation, done, with ``response.documentName``;
- ``DELETE /v1beta/{store}/documents/{id}?force=true`` deletes a document with its chunks (404 when there is none).

``mode``: "ok", or "error" (every request answers HTTP 500). ``fail_next`` makes only the next N requests fail.
``pending_polls``: how many times an operation is reported not done yet (the finalize reply included).
``on_finalize``: called with the new document's name once its bytes are in, before the reply (to change things
while an upload is in flight). Every request is kept for asserts.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import pytest

from quantum_voice.core.resilience import reset_breakers
from quantum_voice.services.knowledge import filesearch
from tests.local_server import LocalHTTPServer

API_KEY = "gemini-test-key"
_STORE = r"fileSearchStores/[a-z0-9-]+"


@dataclass
class StoredDocument:
    name: str
    display_name: str
    mime_type: str
    custom_metadata: list[dict]
    data: bytes = b""

    def metadata(self, key: str):
        """The value of one custom metadata entry (the API takes camelCase and snake_case field names)."""
        for entry in self.custom_metadata:
            if entry.get("key") == key:
                for field_name in ("stringValue", "string_value", "numericValue", "numeric_value"):
                    if field_name in entry:
                        return entry[field_name]
        return None


@dataclass
class _Upload:
    store: str
    display_name: str
    mime_type: str
    custom_metadata: list[dict]
    size: int
    received: bytearray = field(default_factory=bytearray)


class FakeFileSearchStore(LocalHTTPServer):
    def __init__(self) -> None:
        self.mode = "ok"
        self.fail_next = 0
        self.pending_polls = 1
        self.on_finalize = None
        self.documents: dict[str, StoredDocument] = {}
        self.deleted: list[str] = []
        self.requests: list[dict] = []
        self._uploads: dict[str, _Upload] = {}
        self._operations: dict[str, dict] = {}  # name → {"document": name, "polls": n}
        self._lock = threading.Lock()
        super().__init__(self._handler())

    def calls(self) -> list[str]:
        """``METHOD path`` of every request, without the query string."""
        return [f"{r['method']} {r['path'].split('?')[0]}" for r in self.requests]

    def add_document(self, store: str, display_name: str = "old.pdf") -> str:
        """A document already in the store (as if uploaded before)."""
        name = f"{store}/documents/{uuid.uuid4().hex[:12]}"
        self.documents[name] = StoredDocument(name, display_name, "application/pdf", [])
        return name

    # ── Requests ─────────────────────────────────────────────────────────────────────────────────────────────

    def _answer(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, dict, dict]:
        """Status, extra headers and JSON payload for one request."""
        parts = urlsplit(path)
        if headers.get("x-goog-api-key") != API_KEY and "upload_id" not in parse_qs(parts.query):
            # the upload URL itself is the credential for the bytes, as with Google's resumable uploads
            return 403, {}, _error(403, "API key not valid. Please pass a valid API key.", "PERMISSION_DENIED")
        if method == "POST" and headers.get("x-goog-upload-protocol") == "resumable" \
                and headers.get("x-goog-upload-command") == "start":
            return self._start_upload(parts.path, headers, body)
        if method == "POST" and "upload_id" in parse_qs(parts.query):
            return self._receive_bytes(parse_qs(parts.query)["upload_id"][0], headers, body)
        operation = re.fullmatch(rf"/v1beta/({_STORE}/upload/operations/[a-z0-9]+)", parts.path)
        if method == "GET" and operation:
            return self._operation(operation.group(1))
        document = re.fullmatch(rf"/v1beta/({_STORE}/documents/[a-z0-9-]+)", parts.path)
        if method == "DELETE" and document:
            return self._delete(document.group(1), parse_qs(parts.query))
        return 404, {}, _error(404, f"Method not found: {method} {parts.path}", "NOT_FOUND")

    def _start_upload(self, path: str, headers: dict, body: bytes) -> tuple[int, dict, dict]:
        match = re.fullmatch(rf"/upload/v1beta/({_STORE}):uploadToFileSearchStore", path)
        if not match:
            return 404, {}, _error(404, "Requested entity was not found.", "NOT_FOUND")
        request = json.loads(body or b"{}")
        upload_id = uuid.uuid4().hex
        self._uploads[upload_id] = _Upload(
            match.group(1), request.get("displayName") or request.get("display_name") or "",
            headers.get("x-goog-upload-header-content-type", ""),
            request.get("customMetadata") or request.get("custom_metadata") or [],
            int(headers.get("x-goog-upload-header-content-length") or 0))
        upload_url = f"{self.url}{path}?upload_id={upload_id}&upload_protocol=resumable"
        return 200, {"X-Goog-Upload-Status": "active", "X-Goog-Upload-URL": upload_url,
                     "X-Goog-Upload-Chunk-Granularity": "8388608"}, {}

    def _receive_bytes(self, upload_id: str, headers: dict, body: bytes) -> tuple[int, dict, dict]:
        upload = self._uploads.get(upload_id)
        if upload is None or int(headers.get("x-goog-upload-offset") or -1) != len(upload.received):
            return 400, {"X-Goog-Upload-Status": "final"}, _error(400, "Bad upload offset.", "INVALID_ARGUMENT")
        upload.received.extend(body)
        if "finalize" not in headers.get("x-goog-upload-command", ""):
            return 200, {"X-Goog-Upload-Status": "active"}, {}
        del self._uploads[upload_id]
        if len(upload.received) != upload.size:
            return 400, {"X-Goog-Upload-Status": "final"}, _error(400, "Size mismatch.", "INVALID_ARGUMENT")
        document = f"{upload.store}/documents/{uuid.uuid4().hex[:12]}"
        self.documents[document] = StoredDocument(document, upload.display_name, upload.mime_type,
                                                  upload.custom_metadata, bytes(upload.received))
        operation = f"{upload.store}/upload/operations/{uuid.uuid4().hex[:16]}"
        self._operations[operation] = {"document": document, "store": upload.store, "polls": 0}
        if self.on_finalize is not None:
            self.on_finalize(document)
        return 200, {"X-Goog-Upload-Status": "final"}, self._operation_body(operation)

    def _operation(self, name: str) -> tuple[int, dict, dict]:
        if name not in self._operations:
            return 404, {}, _error(404, "Operation not found.", "NOT_FOUND")
        self._operations[name]["polls"] += 1
        return 200, {}, self._operation_body(name)

    def _operation_body(self, name: str) -> dict:
        operation = self._operations[name]
        if operation["polls"] < self.pending_polls:
            return {"name": name, "metadata": {"@type": "type.googleapis.com/google.ai.generativelanguage.v1main."
                                                         "UploadToFileSearchStoreMetadata"}}
        return {"name": name, "done": True, "response": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.UploadToFileSearchStoreResponse",
            "parent": operation["store"], "documentName": operation["document"]}}

    def _delete(self, name: str, query: dict) -> tuple[int, dict, dict]:
        if name not in self.documents:
            return 404, {}, _error(404, f"Document {name} not found.", "NOT_FOUND")
        if query.get("force", [""])[0].lower() != "true" and self.documents[name].data:  # the SDK sends "True"
            return 400, {}, _error(400, "Document has chunks: delete with force=true.", "FAILED_PRECONDITION")
        del self.documents[name]
        self.deleted.append(name)
        return 200, {}, {}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with fake._lock:
                    fake.requests.append({"method": self.command, "path": self.path, "headers": headers,
                                          "body": body})
                    if fake.mode == "error" or fake.fail_next > 0:
                        fake.fail_next = max(0, fake.fail_next - 1)
                        status, extra, payload = 500, {}, _error(500, "Internal error encountered.", "INTERNAL")
                    else:
                        status, extra, payload = fake._answer(self.command, self.path, headers, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _serve

            def log_message(self, *args) -> None:
                pass

        return Handler


def _error(code: int, message: str, status: str) -> dict:
    return {"error": {"code": code, "message": message, "status": status}}


def _forget_clients() -> None:
    filesearch.reset_clients()
    reset_breakers()


@pytest.fixture
def store():
    """A running FakeFileSearchStore, with Gemini clients and circuit breakers fresh before and after."""
    server = FakeFileSearchStore().start()
    _forget_clients()
    yield server
    server.stop()
    _forget_clients()
