"""How a call times the caller's turn from the session's user-state events (agent/call.py), without audio."""

from types import SimpleNamespace

from agent.call import TurnTaking, VoiceCall


def state(old: str, new: str, at: float) -> SimpleNamespace:
    return SimpleNamespace(old_state=old, new_state=new, created_at=at)


def a_call() -> VoiceCall:
    return VoiceCall(brain=None, stt=None, tts=None, vad=None, turn_taking=TurnTaking(vad_min_silence=0.25))


def test_a_turn_spoken_with_a_pause_ends_where_the_caller_last_stopped():
    call = a_call()
    call._on_user_state(state("listening", "speaking", 10.0))
    call._on_user_state(state("speaking", "listening", 11.25))  # "my email is john dot smith at" … pause
    call._on_user_state(state("listening", "speaking", 11.8))  # … "example dot com"
    call._on_user_state(state("speaking", "listening", 13.25))
    assert call._pending.speech_started == 10.0
    assert call._pending.speech_ended == 13.0  # the VAD's event less its silence window, from the second stretch


def test_a_transports_exact_end_of_speech_is_kept():
    call = a_call()
    call._on_user_state(state("listening", "speaking", 10.0))
    call.mark_caller_speech_end(12.9)
    call._on_user_state(state("speaking", "listening", 13.3))
    assert call._pending.speech_ended == 12.9


def test_speech_after_a_reply_was_claimed_is_a_new_turn():
    call = a_call()
    call._on_user_state(state("listening", "speaking", 10.0))
    call._on_user_state(state("speaking", "listening", 11.25))
    call._pending.claimed = True  # the agent's answer to it was created
    call._on_user_state(state("listening", "speaking", 14.0))
    assert call._pending.speech_started == 14.0 and call._pending.speech_ended is None
