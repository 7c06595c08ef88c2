"""The API keeps the promises of its own OpenAPI schema: schemathesis (a property-based fuzzer) builds requests
from /api/openapi.json for every operation, valid and invalid ones, signs them with an API key holding every
scope, and sends them to the app in process (no server). Each answer must be no server error (5xx), have a status
code the schema lists for the operation, and a Content-Type and body that match what the schema says for it.

Bounded for CI: a few examples per operation, no shrinking, a fixed seed, so the same requests every run. The run
goes through schemathesis's engine (what ``schemathesis run`` does), not its pytest plugin, which does not work
with pytest 9's node ids.
"""

from __future__ import annotations

import os

import schemathesis
from fastapi.testclient import TestClient
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from quantum_voice.api import create_api
from quantum_voice.core.config import reset_settings
from quantum_voice.services.developer.scopes import RESOURCES
from tests.factories import api_owner

EXAMPLES_PER_OPERATION = 12
LIVEKIT = {"LIVEKIT_URL": "wss://livekit.invalid", "LIVEKIT_API_KEY": "contract", "LIVEKIT_API_SECRET": "x" * 32}
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance")


def _all_scopes_key(client: TestClient) -> str:
    owner = api_owner(client)
    client.post("/api/campaigns", json={"name": "Contract target"}, headers=owner).raise_for_status()
    scopes = [f"{resource}:write" for resource in RESOURCES]
    created = client.post("/api/developer/keys", json={"name": "contract", "scopes": scopes, "role": "admin"},
                          headers=owner)
    assert created.status_code == 201, created.text
    return created.json()["secret"]


def _config(secret: str) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict({
        "seed": 17,
        "headers": {"Authorization": f"Bearer {secret}"},
        "workers": 1,
        "generation": {"max-examples": int(os.environ.get("CONTRACT_EXAMPLES", EXAMPLES_PER_OPERATION)),
                       "mode": "all", "no-shrink": True, "database": "none"},  # valid and invalid; no shrinking
        "phases": {"stateful": {"enabled": False}},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS},
                   # 503 is the API's deliberate "not now" (a campaign not taking calls, the database unreachable),
                   # documented where it can happen (status_code_conformance); a crash is a 500 and still fails
                   "not_a_server_error": {"expected-statuses": ["2XX", "3XX", "4XX", "503"]}},
    })


def _describe(recorder, case_id: str, check) -> str:
    failure = check.failure_info.failure
    interaction = recorder.interactions.get(case_id)
    response = interaction.response if interaction else None
    answer = f"{response.status_code} {response.content[:300]!r}" if response is not None else "no response"
    return (f"{recorder.label}: {check.name}: {failure.title}: {failure.message[:300]}\n"
            f"    sent: {check.failure_info.code_sample[:400]}\n    got: {answer}")


def _run(stream) -> tuple[list[str], dict[str, list[int]]]:
    """The broken promises, and the statuses each operation answered."""
    found, answered = [], {}
    for event in stream:
        if isinstance(event, events.ScenarioFinished):
            statuses = answered.setdefault(event.recorder.label, [])
            statuses += [i.response.status_code for i in event.recorder.interactions.values() if i.response]
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.failure_info is not None:
                        found.append(_describe(event.recorder, case_id, check))
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            found.append(f"error: {event}")
    return found, answered


def test_every_operation_answers_as_its_schema_says(engine, monkeypatch):
    monkeypatch.setenv("API_KEY_REQUESTS_PER_MINUTE", "1000000")  # the fuzzer's pace is not what is tested
    for name, value in LIVEKIT.items():  # so POST /api/public/calls/livekit is exercised, not a 503 "not set up"
        monkeypatch.setenv(name, value)
    reset_settings()
    app = create_api()
    secret = _all_scopes_key(TestClient(app))
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app, config=_config(secret))
    problems, answered = _run(from_schema(schema).execute())
    assert not problems, f"{len(problems)} broken promises:\n" + "\n".join(problems)
    operations = {f"{m.upper()} {p}" for p, ops in app.openapi()["paths"].items() for m in ops}
    assert operations == {label for label, statuses in answered.items() if statuses}  # each one was called
    statuses = [status for got in answered.values() for status in got]
    assert len(statuses) > 10 * len(operations) and statuses.count(401) < len(statuses) // 10  # the key worked


PAGES_FOR_PEOPLE = {("/api/health", "503"), ("/api/q/{code}", "404")}  # a health report, a page for a scanned code
PUBLIC = ("/api/auth/", "/api/public/", "/api/q/", "/api/health", "/api/flows/templates")  # no sign-in


def test_every_error_is_documented_in_the_one_format_and_posts_take_an_idempotency_key():
    spec = TestClient(create_api()).get("/api/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # FastAPI's own 422 format, which we never send
    posts_with_key = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and (path, status) not in PAGES_FOR_PEOPLE:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, status)
            names = [p["name"] for p in operation.get("parameters", [])]
            if not path.startswith(PUBLIC):  # behind a key or a session
                assert {"401", "403", "422", "429"} <= operation["responses"].keys(), (method, path)
                assert ("Idempotency-Key" in names) == (method == "post"), (method, path)
                posts_with_key += method == "post"
            else:
                assert "Idempotency-Key" not in names, (method, path)
    assert posts_with_key > 20
    assert spec["paths"]["/api/campaigns"]["post"]["responses"]["201"]
