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


def test_a_resumed_call_says_it_was_cut_off_and_asks_again_what_it_was_waiting_for():
    call = Call(template())
    call.start()
    asked = call.say("Hi, I'm John Smith").reply  # the lead gate asks for the email next
    before = call.state
    resumed = engine.resume(call.flow, before, call.ctx())
    assert resumed.reply == f"{engine.CUT_OFF} {before.last_prompt}" and before.last_prompt in asked
    assert resumed.state.node_id == before.node_id and resumed.state.variables == before.variables
    assert resumed.state.gate == before.gate and resumed.state.turns == before.turns
    assert resumed.reply == "Sorry, we got cut off. What's the best email address to reach you?"
    call.stored = json.dumps(resumed.state.to_json())
    assert "Is that right?" in call.say("john at example dot com").reply, "the call carries on where it was"
    assert call.state.variables == {"name": "John Smith", "email": "john@example.com"}


def test_a_resumed_read_back_is_personal_and_a_call_that_ended_says_nothing():
    call = Call(template())
    call.start()
    call.say("Hi, I'm John Smith")
    call.say("john at example dot com")  # read back: "I have j o h n at example dot com. Is that right? ..."
    resumed = engine.resume(call.flow, call.state, call.ctx())
    [ask] = resumed.of_kind("ask")
    assert ask.data.get("personal") is True and "Is that right" in ask.text
    ended = call.say("no that's all, bye").state
    ended = ended if ended.status == "ended" else engine.hang_up(call.flow, ended, call.ctx()).state
    assert engine.resume(call.flow, ended, call.ctx()).actions == []
