"""What a call writes to the database (agent/recorder.py), with a brain that runs the writes on a fake repository."""

import asyncio
from types import SimpleNamespace

from agent.recorder import CallRecorder
from agent.turn_report import TurnReport
from quantum_voice.services import voice_calls


class FakeBrain:
    def __init__(self, conversation_id: int | None = 7) -> None:
        self.conversation_id = conversation_id
        self.writes = 0

    async def run(self, fn, *args):
        self.writes += 1


def a_report(**changes) -> TurnReport:
    fields = dict(seq=1, caller="Is parking included?", reply="Yes.", node_id="qa", node_type="knowledge",
                  handoff=None, ended=False, interrupted=False, heard=None, timings=voice_calls.TurnMetrics(),
                  agent_seq=3)
    return TurnReport(**(fields | changes))


def test_a_turn_with_a_saved_agent_turn_is_written_off_the_event_loop_and_flushed():
    async def scenario():
        brain = FakeBrain()
        recorder = CallRecorder(brain)
        recorder.record_turn(a_report())
        recorder.record_turn(a_report(agent_seq=None))  # an apology: nothing was saved for it
        await recorder.flush()
        return brain.writes
    assert asyncio.run(scenario()) == 1


def test_usage_is_recorded_once_and_only_for_a_conversation():
    async def scenario(conversation_id):
        brain = FakeBrain(conversation_id)
        recorder = CallRecorder(brain)
        meters = [SimpleNamespace(provider="piper", service="tts", quantity=12.0, unit="characters", model="joe")]
        await recorder.record_usage(meters)
        await recorder.record_usage(meters)
        return brain.writes
    assert asyncio.run(scenario(7)) == 1
    assert asyncio.run(scenario(None)) == 0
