"""A caller holding for a person: the hold line, a person taking the call, no one answering (the callback), the
call handed back or ended by the person, a goodbye while holding (engine only; the queue side is in
tests/integration/handoffs/test_call_side.py)."""

import json
from datetime import timedelta

from quantum_voice.services.flows import engine
from quantum_voice.services.flows.state import FlowState
from tests.unit.flows.support import Call, template


def holding(*, with_email: bool = True) -> Call:
    call = Call(template(), agents_available=True)
    call.start()
    if with_email:
        call.say("I'm Ana, ana@example.com")
        call.say("yes")
    call.say("can I speak to someone please?")
    assert call.state.status == "handed_off" and call.state.handoff.phase == "waiting"
    return call


def event(call: Call, result) -> None:
    call._keep(result, None)


def test_the_hold_line_comes_back_on_ticks_about_every_20_seconds_with_the_wait_left():
    call = holding()
    call.now += timedelta(seconds=10)
    assert not engine.tick(call.flow, call.state, call.ctx()).actions  # too soon after "please stay on the line"
    call.now += timedelta(seconds=11)
    step = engine.tick(call.flow, call.state, call.ctx())
    assert step.reply == "Thanks for holding. Someone should be with you in a moment; if not, I'll make sure the " \
                         "team gets back to you."
    event(call, step)
    call.now += timedelta(seconds=5)
    assert not engine.tick(call.flow, call.state, call.ctx()).actions  # the last hold line was just said


def test_a_person_takes_the_call_then_the_ai_is_silent_and_picks_up_when_handed_back():
    call = holding()
    event(call, engine.handoff_connected(call.flow, call.state, call.ctx(), "Alex"))
    assert call.reply == "I'm putting you through to Alex now." and call.state.handoff.phase == "connected"
    assert not engine.handoff_connected(call.flow, call.state, call.ctx(), "Alex").actions  # said once
    call.say("Hi Alex, I wanted to ask about the price")
    assert call.reply == "" and call.state.status == "handed_off"
    call.now += timedelta(minutes=2)
    assert not engine.tick(call.flow, call.state, call.ctx()).actions  # no hold lines over the person
    event(call, engine.resume_after_handoff(call.flow, call.state, call.ctx()))
    assert call.state.status == "active" and call.state.node_id == "answer"  # back where the call was
    assert call.reply == "Is there anything else I can help you with?"
    call.say("can I speak to someone again please?")  # after a person, the caller may ask again
    assert call.actions("handoff")[0]["held"] is True and call.state.handoff.agent is None


def test_a_person_ending_the_call_with_a_disposition_gets_the_flows_goodbye():
    call = holding()
    event(call, engine.handoff_connected(call.flow, call.state, call.ctx(), "Alex"))
    event(call, engine.handoff_completed(call.flow, call.state, call.ctx()))
    assert call.state.status == "ended" and call.state.end_reason == "handoff_completed"
    assert call.reply.startswith("Thanks for calling")


def test_no_one_answering_in_time_offers_a_callback_kept_for_the_team_and_the_ai_carries_on():
    call = holding()
    event(call, engine.handoff_unanswered(call.flow, call.state, call.ctx()))
    assert call.reply == ("I'm sorry, no one from the team is free to take your call right now. When would be a "
                          "good time for someone to get back to you?")
    assert call.state.status == "active" and call.state.handoff.phase == "callback"
    call.say("any weekday after five")
    assert call.actions("callback") == [{"text": "", "when": "any weekday after five"}]
    assert call.state.handoff.callback == "any weekday after five"
    assert "call back: any weekday after five" in call.state.requests
    assert call.reply == "Thanks, I've passed that on to the team. Is there anything else I can help you with?"
    call.say("can I talk to a person?")  # requested once a call
    assert not call.actions("handoff") and call.reply.startswith("I've noted your request for the team.")


def test_a_question_instead_of_a_callback_time_is_answered():
    call = holding()
    event(call, engine.handoff_unanswered(call.flow, call.state, call.ctx()))
    call.say("never mind, is there parking?")
    assert call.reply.startswith("Every home has two parking spaces") and not call.actions("callback")
    assert call.state.node_id == "answer"


def test_no_callback_is_offered_to_a_caller_the_team_cannot_reach():
    call = holding(with_email=False)
    event(call, engine.handoff_unanswered(call.flow, call.state, call.ctx()))
    assert call.reply.startswith("I'm sorry, no one from the team is free to take your call right now.")
    assert "get back to you" not in call.reply and call.state.handoff.phase == "done"
    assert call.state.node_id == "lead_gate"  # on with what the gate still needs


def test_a_refused_callback_is_fine():
    call = holding()
    event(call, engine.handoff_unanswered(call.flow, call.state, call.ctx()))
    call.say("no thanks")
    assert call.reply.startswith("No problem.") and not call.actions("callback")


def test_a_goodbye_while_holding_ends_the_call():
    call = holding()
    call.say("never mind, I'll call back later. Bye!")
    assert call.state.status == "ended" and call.state.end_reason == "caller_goodbye"


def test_events_that_do_not_fit_the_phase_change_nothing():
    call = Call(template())
    call.start()
    assert not engine.handoff_connected(call.flow, call.state, call.ctx(), "Alex").actions  # nobody asked
    call = holding()
    event(call, engine.handoff_unanswered(call.flow, call.state, call.ctx()))
    state = FlowState.from_json(json.loads(call.stored))
    assert not engine.handoff_connected(call.flow, state, call.ctx(), "Alex").actions  # too late: not holding
    assert not engine.resume_after_handoff(call.flow, state, call.ctx()).actions


def test_the_hold_line_promises_a_callback_only_to_a_caller_the_team_can_reach():
    call = holding(with_email=False)
    call.now += timedelta(seconds=25)
    assert engine.tick(call.flow, call.state, call.ctx()).reply == (
        "Thanks for holding. Someone should be with you in a moment; if not, I'll let you know.")
