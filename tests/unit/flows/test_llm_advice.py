"""The flow engine with the optional LLM understanding switched on: its reading fills what the rules left open,
every value it offers is checked like a spoken one, and a slow or broken model leaves the rules to carry the call.
The model is the local fake that speaks OpenAI's chat-completions wire format (``test_understanding.FakeLLM``)."""

from __future__ import annotations

import json

import pytest
from openai import OpenAI

from quantum_voice.core.resilience import reset_breakers
from quantum_voice.services.flows.understanding import OpenAIUnderstander, breaker_for
from tests.unit.flows.support import Call, template
from tests.unit.flows.test_understanding import FakeLLM

TIMEOUT = 0.3


@pytest.fixture(scope="module")
def server():
    running = FakeLLM().start()
    yield running
    running.stop()


@pytest.fixture
def model(server):
    server.reset()
    reset_breakers()
    client = OpenAI(api_key="sk-test", base_url=f"{server.url}/v1", timeout=TIMEOUT, max_retries=0)
    yield server, OpenAIUnderstander(client, "fake-model", breaker_for("understanding:test"))
    server.reset()


def answers(server, intent: str, slots: dict | None = None, questions: list | None = None) -> None:
    server.arguments = json.dumps({"intent": intent, "slots": slots or {}, "questions": questions or []})


class AdvisedCall(Call):
    def __init__(self, flow, understander):
        super().__init__(flow)
        self.understander = understander

    def ctx(self, stt_confidence=None):
        from dataclasses import replace

        return replace(super().ctx(stt_confidence), intents=None, understander=self.understander)


def at_read_back(understander) -> AdvisedCall:
    call = AdvisedCall(template(), understander)
    call.start()
    call.say("Ana Lopez")
    call.say("ana dot lopez at example dot com")
    assert call.state.gate.asking == "confirm_email"
    return call


def test_a_reading_decides_what_the_rules_could_not(model):
    server, understander = model
    call = at_read_back(understander)
    answers(server, "consent_yes")
    call.say("you nailed it, go for it")  # the rules alone hear no yes here
    assert call.state.consent is True and call.state.gate.email_confirmed
    understood = call.actions("understood")[0]
    assert understood["provider"] == "openai:fake-model" and understood["intent"] == "consent_yes"
    assert understood["prompt_tokens"] == 321 and understood["completion_tokens"] == 45
    assert understood["latency_ms"] > 0
    sent = json.loads(server.requests[-1]["json"]["messages"][-1]["content"].split("\n", 1)[1])
    assert sent["caller_said"] == "you nailed it, go for it" and sent["expecting"] == "email"
    assert sent["agent_said"].startswith("I have a-n-a dot lopez at example dot com. Is that right?")


def test_the_rules_are_never_overruled(model):
    server, understander = model
    call = at_read_back(understander)
    answers(server, "consent_yes")
    call.say("no, that's wrong")  # the rules heard "no": the model's "yes" does not count
    assert call.state.consent is None and "email" not in call.state.variables


def test_offered_values_are_checked_like_spoken_ones(model):
    server, understander = model
    call = AdvisedCall(template(), understander)
    call.start()
    answers(server, "statement", {"name": "Correct", "email": "not an address", "interest": "the loft apartment"})
    call.say("mm, the loft one is what I'm after")
    assert "name" not in call.state.variables and "email" not in call.state.variables
    assert call.state.variables["interest"] == "the loft apartment"
    answers(server, "statement", {"name": "Priya Raman"})
    call.say("uh, Priya Raman")
    assert call.state.variables["name"] == "Priya Raman"


def test_the_models_questions_stand_alone_for_the_knowledge_search(model):
    server, understander = model
    call = at_read_back(understander)
    answers(server, "consent_yes")
    call.say("yes, and I agree")
    answers(server, "question", questions=["Is there parking at Harbor View?"])
    call.say("and for the car, is there somewhere to leave it?")
    assert call.knowledge.asked[-1]["question"] == "Is there parking at Harbor View?"
    assert call.actions("answer")[0]["text"] == "Every home has two parking spaces in the garage."


def test_a_hanging_model_leaves_the_rules_to_carry_the_call(model):
    server, understander = model
    call = at_read_back(understander)
    server.mode = "hang"
    call.say("yes, that's right, and I agree")
    assert call.state.consent is True and not call.actions("understood")
