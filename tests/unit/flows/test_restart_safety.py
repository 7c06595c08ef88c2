"""A call's state is JSON: stored after every turn, it survives a restart and gives the same results."""

import json

from quantum_voice.services.flows import engine
from quantum_voice.services.flows.state import FlowState
from tests.unit.flows.support import Call, template

SCRIPT = ["Hi, I'm John Smith", "how much is the HOA fee?", "j o h n dot smith at example dot com",
          "yes, that's right, and I agree", "we want to move next month, can we book a tour?", "the tour times",
          "no that's all, bye"]


def run(script, restart_after: int | None = None) -> list[str]:
    call = Call(template())
    replies = [call.start().reply]
    for index, line in enumerate(script):
        if index == restart_after:  # a new process: only the stored JSON text survives
            stored, now = call.stored, call.now
            call = Call(template())
            call.stored, call.now = stored, now
        replies.append(call.say(line).reply)
    return replies


def test_state_round_trips_through_json_exactly():
    call = Call(template())
    call.start()
    for line in SCRIPT[:4]:
        call.say(line)
    state = call.state
    assert FlowState.from_json(json.loads(json.dumps(state.to_json()))) == state
    assert state.started_at.tzinfo is not None


def test_a_restart_in_the_middle_of_the_lead_gate_changes_nothing():
    assert run(SCRIPT, restart_after=3) == run(SCRIPT)


def test_the_engine_is_deterministic_and_never_changes_the_state_it_is_given():
    call = Call(template())
    state = call.start().state
    snapshot = state.model_copy(deep=True)
    first = engine.respond(call.flow, state, "I'm Ana, ana@example.com", call.ctx())
    second = engine.respond(call.flow, state, "I'm Ana, ana@example.com", call.ctx())
    assert state == snapshot
    assert first.model_dump() == second.model_dump()


def test_every_action_is_json():
    call = Call(template())
    call.start()
    for line in SCRIPT:
        result = call.say(line)
        json.dumps([a.model_dump(mode="json") for a in result.actions])
