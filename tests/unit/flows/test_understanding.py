"""The optional LLM understanding of a caller's turn, against a local server speaking OpenAI's chat-completions
wire format (tool calls included) and Gemini's ``generateContent``."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest
from openai import OpenAI

from quantum_voice.core.config import reset_settings
from quantum_voice.core.resilience import CLOSED, OPEN, reset_breakers
from quantum_voice.services.flows import understanding
from quantum_voice.services.flows.understanding import (
    INTENTS, SYSTEM_PROMPT, TOOL_NAME, GeminiUnderstander, OpenAIUnderstander, Reading, breaker_for,
    configured_understander, gemini_client,
)
from tests.local_server import LocalHTTPServer

TIMEOUT = 0.3
CALLER = "Yes it's Ana Lopez, ana@example.com. And how much is the HOA fee there?"
AGENT = "Could I get your name and email?"
TURN = {"intent": "statement", "slots": {"name": "  Ana Lopez ", "email": "ana@example.com"},
        "questions": ["How much is the HOA fee at Harbor View?"]}
ENV = ("UNDERSTANDING_PROVIDER", "UNDERSTANDING_MODEL", "UNDERSTANDING_TIMEOUT_SECONDS", "OPENAI_API_KEY",
       "OPENAI_BASE_URL", "GEMINI_API_KEY", "GEMINI_BASE_URL")


class FakeLLM(LocalHTTPServer):
    """``POST /v1/chat/completions`` and ``POST /v1beta/models/{model}:generateContent``. ``mode``: "tool" (a
    ``record_turn`` tool call), "content" (the JSON in ``message.content``, no tool call), "error" (HTTP 500) or
    "hang" (no reply until the server stops). ``arguments`` is the JSON text the model "writes"."""

    def __init__(self) -> None:
        self._release = threading.Event()
        self.reset()
        super().__init__(self._handler())

    def reset(self) -> None:
        """Back to answering with ``TURN``; requests forgotten, hanging ones let go."""
        self._release.set()
        self._release = threading.Event()
        self.mode, self.arguments, self.requests = "tool", json.dumps(TURN), []

    def stop(self) -> None:
        self._release.set()
        super().stop()

    def _respond(self, path: str, body: dict) -> tuple[int, dict]:
        if path == "/v1/chat/completions":
            if self.mode == "content":
                message = {"role": "assistant", "content": self.arguments}
                finish = "stop"
            else:
                message = {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_fake1", "type": "function",
                     "function": {"name": TOOL_NAME, "arguments": self.arguments}}]}
                finish = "tool_calls"
            return 200, {"id": "chatcmpl-fake", "object": "chat.completion", "created": 1764000000,
                         "model": body.get("model", "fake"),
                         "choices": [{"index": 0, "finish_reason": finish, "message": message}],
                         "usage": {"prompt_tokens": 321, "completion_tokens": 45, "total_tokens": 366}}
        gemini = re.fullmatch(r"/v1beta/models/([^/:?]+):generateContent", path)
        if gemini:
            return 200, {"candidates": [{"content": {"role": "model", "parts": [{"text": self.arguments}]},
                                         "finishReason": "STOP", "index": 0}],
                         "modelVersion": gemini.group(1), "responseId": "fake",
                         "usageMetadata": {"promptTokenCount": 210, "candidatesTokenCount": 33,
                                           "totalTokenCount": 243}}
        return 404, {"error": {"message": "not found"}}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                fake.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                      "json": body})
                if fake.mode == "hang":
                    fake._release.wait(30)  # this request's event: set by the next reset or stop
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


@pytest.fixture(scope="module")
def server():
    running = FakeLLM().start()  # one for the module: stopping a server takes half a second
    yield running
    running.stop()


@pytest.fixture
def fake(server, monkeypatch):
    """The fake, answering with ``TURN``; no provider settings, fresh SDK clients and circuit breakers."""
    for var in ENV:
        monkeypatch.delenv(var, raising=False)
    reset_settings()
    server.reset()
    understanding.reset_clients()
    reset_breakers()
    yield server
    server.reset()
    understanding.reset_clients()
    reset_breakers()


@pytest.fixture
def llm(fake) -> OpenAIUnderstander:
    client = OpenAI(api_key="sk-test", base_url=f"{fake.url}/v1", timeout=TIMEOUT, max_retries=0)
    return OpenAIUnderstander(client, "fake-model", breaker_for(f"understanding:{fake.url}"))


@pytest.fixture
def gemini(fake) -> GeminiUnderstander:
    return GeminiUnderstander(gemini_client("gemini-test", fake.url, TIMEOUT), "fake-gemini",
                              breaker_for(f"understanding:gemini:{fake.url}"))


def read(understander, text: str = CALLER, **options) -> Reading | None:
    options = {"agent_said": AGENT, "expecting": "name", "variables": [], **options}
    return understander.read(text, **options)


def test_a_reading_comes_from_the_tool_call(llm, fake):
    reading = read(llm)
    assert reading == Reading("statement", {"name": "Ana Lopez", "email": "ana@example.com"},
                              ["How much is the HOA fee at Harbor View?"], "openai:fake-model",
                              reading.latency_ms, 321, 45)
    assert 0 < reading.latency_ms < TIMEOUT * 1000 * 10


def test_the_request_forces_the_record_turn_tool_and_sends_the_callers_words_as_data(llm, fake):
    read(llm, variables=["move_in_date", "bad key!", "name"])
    request = fake.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["headers"]["authorization"] == "Bearer sk-test"
    body = request["json"]
    assert body["model"] == "fake-model" and body["temperature"] == 0 and body["max_tokens"] > 0
    assert body["tool_choice"] == {"type": "function", "function": {"name": TOOL_NAME}}
    (tool,) = body["tools"]
    assert tool["type"] == "function" and tool["function"]["name"] == TOOL_NAME
    schema = tool["function"]["parameters"]
    assert schema["properties"]["intent"]["enum"] == list(INTENTS)
    assert set(schema["properties"]["slots"]["properties"]) == {
        "name", "email", "phone", "interest", "timeline", "budget", "move_in_date"}
    system, user = body["messages"]
    assert system == {"role": "system", "content": SYSTEM_PROMPT} and "never instructions" in system["content"]
    assert user["role"] == "user" and CALLER not in system["content"]
    turn = json.loads(user["content"].split("\n", 1)[1])  # the caller's words travel as a JSON string
    assert turn == {"agent_said": AGENT, "expecting": "name", "caller_said": CALLER,
                    "slot_keys": ["name", "email", "phone", "interest", "timeline", "budget", "move_in_date"]}


def test_json_in_the_message_content_is_accepted_without_a_tool_call(llm, fake):
    fake.mode = "content"
    fake.arguments = "```json\n" + json.dumps({"intent": "consent_yes", "slots": {}, "questions": []}) + "\n```"
    reading = read(llm, text="Yes, that's fine.", expecting="consent")
    assert reading.intent == "consent_yes" and reading.slots == {} and reading.questions == []
    assert reading.prompt_tokens == 321 and reading.completion_tokens == 45


def test_the_reply_is_validated_strictly(llm, fake):
    fake.arguments = json.dumps({
        "intent": "transfer_money", "questions": ["  What is   the fee? ", 7, "", "q2", "q3", "q4"],
        "slots": {"name": " Ana ", "ssn": "123-45-6789", "budget": 450000, "move_in_date": "x" * 500,
                  "phone": "", "email": {"nested": "no"}}})
    reading = read(llm, variables=["move_in_date"])
    assert reading.intent == "unclear"
    assert reading.slots == {"name": "Ana", "budget": "450000", "move_in_date": "x" * understanding.MAX_SLOT_CHARS}
    assert reading.questions == ["What is the fee?", "q2", "q3"]


@pytest.mark.parametrize("arguments", ["{not json", "[1, 2]", "", "   "])
def test_a_reply_that_is_not_a_json_object_is_no_reading(llm, fake, arguments):
    fake.arguments = arguments
    assert read(llm) is None and len(fake.requests) == 1


def test_empty_words_are_not_sent(llm, fake):
    assert read(llm, text="  ") is None and not fake.requests


def test_a_server_error_is_no_reading_and_is_not_retried(llm, fake):
    fake.mode = "error"
    assert read(llm) is None and len(fake.requests) == 1


def test_a_hanging_server_times_out_quickly(llm, fake):
    fake.mode = "hang"
    started = time.monotonic()
    assert read(llm) is None
    assert time.monotonic() - started < TIMEOUT + 1.5 and len(fake.requests) == 1


def test_five_failures_open_the_circuit_and_no_request_reaches_the_server(llm, fake):
    fake.mode = "hang"  # a timeout counts as a failure
    assert read(llm) is None
    fake.mode = "error"
    for _ in range(3):
        assert read(llm) is None
    assert llm.breaker.state == CLOSED
    assert read(llm) is None
    assert llm.breaker.state == OPEN and len(fake.requests) == 5
    fake.mode = "tool"  # the server is fine again, but the circuit stays open for a while
    started = time.monotonic()
    assert read(llm) is None and read(llm) is None
    assert len(fake.requests) == 5 and time.monotonic() - started < 0.1


def test_a_success_keeps_the_circuit_closed(llm, fake):
    fake.mode = "error"
    for _ in range(4):
        assert read(llm) is None
    fake.mode = "tool"
    assert read(llm).intent == "statement"
    fake.mode = "error"
    assert read(llm) is None and llm.breaker.state == CLOSED


def test_gemini_reads_a_turn_from_its_json_response(gemini, fake):
    reading = read(gemini, variables=["move_in_date"])
    assert reading.intent == "statement" and reading.slots == {"name": "Ana Lopez", "email": "ana@example.com"}
    assert reading.questions == ["How much is the HOA fee at Harbor View?"]
    assert reading.provider == "gemini:fake-gemini" and reading.latency_ms > 0
    assert (reading.prompt_tokens, reading.completion_tokens) == (210, 33)
    request = fake.requests[0]
    assert request["path"] == "/v1beta/models/fake-gemini:generateContent"
    assert request["headers"]["x-goog-api-key"] == "gemini-test"
    body = request["json"]
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json" and config["temperature"] == 0
    schema = config["responseSchema"]
    assert schema["properties"]["intent"]["enum"] == list(INTENTS)
    assert "move_in_date" in schema["properties"]["slots"]["properties"]
    assert "never instructions" in body["systemInstruction"]["parts"][0]["text"]
    turn = json.loads(body["contents"][0]["parts"][0]["text"].split("\n", 1)[1])
    assert turn["caller_said"] == CALLER and turn["expecting"] == "name"


def test_gemini_failures_are_no_reading_and_open_the_circuit(gemini, fake):
    fake.arguments = "{not json"
    assert read(gemini) is None
    fake.mode = "hang"
    started = time.monotonic()
    assert read(gemini) is None and time.monotonic() - started < TIMEOUT + 1.5
    fake.mode = "error"
    for _ in range(3):
        assert read(gemini) is None
    assert gemini.breaker.state == OPEN and len(fake.requests) == 5
    fake.mode, fake.arguments = "tool", json.dumps(TURN)
    assert read(gemini) is None and len(fake.requests) == 5


def test_understanding_is_off_unless_configured(fake, monkeypatch):
    assert configured_understander() is None
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")  # a key alone does not switch understanding on
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-test")
    reset_settings()
    assert configured_understander() is None
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("UNDERSTANDING_PROVIDER", "openai")  # nor a provider without its key or endpoint
    reset_settings()
    assert configured_understander() is None
    monkeypatch.setenv("UNDERSTANDING_PROVIDER", "somebody-else")
    reset_settings()
    assert configured_understander() is None


def test_the_openai_settings_make_an_openai_understander(fake, monkeypatch):
    monkeypatch.setenv("UNDERSTANDING_PROVIDER", "OpenAI")
    monkeypatch.setenv("UNDERSTANDING_MODEL", "local-llama")
    monkeypatch.setenv("UNDERSTANDING_TIMEOUT_SECONDS", str(TIMEOUT))
    monkeypatch.setenv("OPENAI_BASE_URL", f"{fake.url}/v1")  # a local llama.cpp server needs no key
    reset_settings()
    understander = configured_understander()
    assert isinstance(understander, OpenAIUnderstander) and understander.model == "local-llama"
    assert understander.client.timeout == TIMEOUT and understander.client.max_retries == 0
    assert configured_understander().client is understander.client  # one cached client
    assert read(understander).intent == "statement"
    assert fake.requests[0]["json"]["model"] == "local-llama"
    assert fake.requests[0]["headers"]["authorization"] == "Bearer unused"


def test_the_gemini_settings_make_a_gemini_understander(fake, monkeypatch):
    monkeypatch.setenv("UNDERSTANDING_PROVIDER", "gemini")
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-test")
    monkeypatch.setenv("GEMINI_BASE_URL", fake.url)
    reset_settings()
    understander = configured_understander()
    assert isinstance(understander, GeminiUnderstander)
    assert understander.model == understanding.DEFAULT_MODELS["gemini"]
    assert read(understander).intent == "statement"
    assert fake.requests[0]["path"] == f"/v1beta/models/{understanding.DEFAULT_MODELS['gemini']}:generateContent"
