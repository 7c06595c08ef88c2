"""How a call's turns are timed from the session's events (agent/turn_timer.py), without audio."""

from types import SimpleNamespace

from agent.brain import BrainReply
from agent.call import TurnTaking, VoiceCall
from agent.turn_report import TurnReport
from agent.turn_timer import TurnTimer
from quantum_voice.services import voice_calls


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def state(old: str, new: str, at: float) -> SimpleNamespace:
    return SimpleNamespace(old_state=old, new_state=new, created_at=at)


def test_a_turn_spoken_with_a_pause_ends_where_the_caller_last_stopped():
    timer = TurnTimer(vad_min_silence=0.25)
    timer.caller_started(10.0)
    timer.caller_stopped(11.25)  # "my email is john dot smith at" … pause
    timer.caller_started(11.8)  # … "example dot com"
    timer.caller_stopped(13.25)
    assert timer.caller.speech_started == 10.0
    assert timer.caller.speech_ended == 13.0  # the VAD's event less its silence window, from the second stretch


def test_a_transports_exact_end_of_speech_is_kept():
    timer = TurnTimer(vad_min_silence=0.25)
    timer.caller_started(10.0)
    timer.caller_speech_ended(12.9)
    timer.caller_stopped(13.3)
    assert timer.caller.speech_ended == 12.9


def test_speech_after_a_reply_was_created_is_a_new_turn():
    timer = TurnTimer(vad_min_silence=0.25)
    timer.caller_started(10.0)
    timer.caller_stopped(11.25)
    timer.reply_created("speech-1")
    timer.caller_started(14.0)
    assert timer.caller.speech_started == 14.0 and timer.caller.speech_ended is None
    assert timer.answered_by("speech-1").speech_started == 10.0


def test_a_sound_with_no_words_over_the_agent_is_no_turn():
    timer = TurnTimer(vad_min_silence=0.25)
    timer.caller_started(10.0)
    timer.caller_stopped(10.5)
    timer.no_words()
    timer.caller_started(12.0)
    assert timer.caller.speech_started == 12.0


def test_a_turns_metrics_come_from_its_events():
    clock = FakeClock(0.0)
    timer = TurnTimer(vad_min_silence=0.25, clock=clock)
    timer.caller_started(10.0)
    timer.caller_stopped(12.25)  # spoke until 12.0
    timer.transcript_final(12.3)
    timer.reply_created("speech-1")
    reply = BrainReply(text="It is $450 a month.", brain_ms=50.0, ready_at=12.75)  # the step began at 12.7
    clock.now = 12.9
    timer.first_audio("speech-1", reply)
    clock.now = 13.5
    timer.first_audio("speech-1", reply)  # the first byte counts, not a later one
    marks = timer.answered_by("speech-1")
    metrics = timer.metrics(marks, marks.reply, interrupted=False)
    assert metrics.as_json() == {"stt_ms": 300.0, "brain_ms": 50.0, "tts_first_byte_ms": 150.0,
                                 "voice_to_voice_ms": 900.0, "endpointing_ms": 400.0, "caller_audio_ms": 2000.0,
                                 "interrupted": False}


def test_a_line_nobody_asked_for_has_only_its_flow_step_timed():
    clock = FakeClock(5.2)
    timer = TurnTimer(vad_min_silence=0.25, clock=clock)
    greeting = BrainReply(text="Hi, thanks for calling.", brain_ms=30.0, ready_at=5.0)
    timer.line_created("speech-0", greeting)
    timer.first_audio("speech-0", None)
    marks = timer.answered_by("speech-0")
    metrics = timer.metrics(marks, marks.reply, interrupted=False)
    assert metrics.as_json() == {"brain_ms": 30.0, "tts_first_byte_ms": 200.0, "interrupted": False}
    timer.speech_done("speech-0")
    assert timer.answered_by("speech-0").reply is None


def test_a_calls_user_state_events_reach_its_timer():
    call = VoiceCall(brain=None, stt=None, tts=None, vad=None, turn_taking=TurnTaking(vad_min_silence=0.25))
    call._on_user_state(state("listening", "speaking", 10.0))
    call._on_user_state(state("speaking", "listening", 11.25))
    assert call.timer.caller.speech_started == 10.0 and call.timer.caller.speech_ended == 11.0
    call.mark_caller_speech_end(10.9)
    assert call.timer.caller.speech_ended == 10.9


def test_a_turn_report_rounds_its_timings_to_whole_milliseconds():
    metrics = voice_calls.TurnMetrics(stt_ms=201.4, voice_to_voice_ms=812.6, interrupted=True)
    report = TurnReport(seq=2, caller="Is parking included?", reply="Yes.", node_id="qa", node_type="knowledge",
                        handoff={"reason": "asked", "queue": "sales"}, ended=False, interrupted=True, heard="",
                        timings=metrics)
    assert report.as_json() == {
        "turn": 2, "transcript": "Is parking included?", "reply": "Yes.", "node_id": "qa", "node_type": "knowledge",
        "handoff": {"reason": "asked"}, "interrupted": True, "unspoken": False,
        "timings": {"stt_ms": 201, "brain_ms": None, "tts_first_byte_ms": None, "voice_to_voice_ms": 813,
                    "endpointing_ms": None}}
