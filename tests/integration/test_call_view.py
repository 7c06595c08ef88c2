"""The per-call page's reading of a call: the transcript in order with its times, each timed turn's waterfall laid
out from what the sidecar recorded, interruptions, the providers used, another organisation's call not found, and
turns with missing or damaged timings shown without a waterfall — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from quantum_voice.core.errors import NotFound
from quantum_voice.models.billing import UsageRecord
from quantum_voice.models.calls import Conversation, Speaker, TranscriptTurn
from quantum_voice.services import campaigns
from quantum_voice.services.analytics import call_view
from quantum_voice.services.analytics.call_view import call_detail, waterfall
from quantum_voice.states.call_detail import offset_text, recent_row, segments
from tests.factories import repo_for, verified_owner

STARTED = datetime(2026, 3, 9, 10, tzinfo=timezone.utc)
METRICS = {"stt_ms": 120.0, "endpointing_ms": 300.0, "brain_ms": 80.4, "tts_first_byte_ms": 250.0,
           "voice_to_voice_ms": 790.0, "caller_audio_ms": 2400.0}


def turn(call: Conversation, seq: int, speaker: Speaker, text: str, offset_ms: int | None, **extra) -> TranscriptTurn:
    return TranscriptTurn(organization_id=call.organization_id, conversation_id=call.id, seq=seq,
                          speaker=speaker.value, text=text, offset_ms=offset_ms, **extra)


@pytest.fixture
def seeded(session):
    owner, org = verified_owner(session)
    other_owner, _ = verified_owner(session, email="b@example.com", org="B Homes")
    repo, other = repo_for(session, owner), repo_for(session, other_owner)
    campaign = campaigns.create_campaign(repo, name="Open House")
    call = Conversation(organization_id=org.id, campaign_id=campaign.id, status="ended", started_at=STARTED,
                        duration_seconds=95.0, end_reason="completed", channel="qr")
    session.add(call)
    session.flush()
    # written out of order: the page shows them by seq
    session.add_all([
        turn(call, 3, Speaker.AGENT, "We have parking for two cars.", 9_800,
             meta={"metrics": {**METRICS, "voice_to_voice_ms": 900.0}}),
        turn(call, 0, Speaker.AGENT, "Hello, this is Open House.", 0),  # the greeting: nobody's turn to time
        turn(call, 1, Speaker.CALLER, "Is there parking?", 4_200, duration_ms=2400, confidence=0.93),
        turn(call, 2, Speaker.AGENT, "Let me check that for you, one", 7_150, interrupted=True,
             meta={"metrics": METRICS, "heard": "Let me check"}),
        turn(call, 4, Speaker.AGENT, "Anything else?", 12_000, meta={"metrics": {"voice_to_voice_ms": None,
                                                                                  "stt_ms": -5}}),
    ])
    session.add(UsageRecord(organization_id=org.id, conversation_id=call.id, provider="local-whisper",
                            service="stt", model="base", quantity=12.5, unit="seconds"))
    session.flush()
    return repo, other, call


def test_call_detail_lists_the_transcript_in_order_with_times_and_the_call_facts(seeded):
    repo, _, call = seeded
    found = call_detail(repo, call.id)
    assert [t.seq for t in found.turns] == [0, 1, 2, 3, 4]
    assert [t.offset_ms for t in found.turns] == [0, 4_200, 7_150, 9_800, 12_000]
    assert found.turns[1].duration_ms == 2400 and found.turns[1].confidence == pytest.approx(0.93)
    assert (found.campaign_name, found.end_reason, found.channel, found.is_test) == ("Open House", "completed",
                                                                                     "qr", False)
    assert [(u.service, u.provider, u.quantity) for u in found.usage] == [("stt", "local-whisper", 12.5)]


def test_each_timed_turn_lays_its_stages_end_to_end_from_the_end_of_speech(seeded):
    repo, _, call = seeded
    timed = call_detail(repo, call.id).turns[2].waterfall
    assert [(s.key, s.start_ms, s.ms) for s in timed.stages] == [
        ("stt_ms", 0.0, 120.0), ("endpointing_ms", 120.0, 300.0), ("brain_ms", 420.0, 80.4),
        ("tts_first_byte_ms", 500.4, 250.0)]
    assert timed.voice_to_voice_ms == 790.0 and timed.caller_audio_ms == 2400.0
    assert timed.measured_ms == pytest.approx(750.4) and timed.total_ms == 790.0


def test_interruptions_keep_what_the_caller_heard(seeded):
    repo, _, call = seeded
    found = call_detail(repo, call.id)
    assert found.interruptions == 1
    assert (found.turns[2].interrupted, found.turns[2].heard) == (True, "Let me check")
    assert found.turns[3].heard is None


def test_turns_without_or_with_damaged_timings_have_no_waterfall(seeded):
    repo, _, call = seeded
    found = call_detail(repo, call.id)
    assert found.turns[0].waterfall is None  # the greeting
    assert found.turns[1].waterfall is None  # the caller's own turn
    assert found.turns[4].waterfall is None  # null and -5 are not durations
    assert waterfall({"voice_to_voice_ms": "fast", "stt_ms": True}) is None
    assert [t.seq for t in found.measured_turns] == [2, 3]
    assert waterfall({"brain_ms": 40}).stages[0].start_ms == 0.0  # a stage not measured takes no room
    assert waterfall(None) is None and waterfall({}) is None


def test_another_organisations_call_is_not_found(seeded):
    _, other, call = seeded
    with pytest.raises(NotFound):
        call_detail(other, call.id)
    with pytest.raises(NotFound):
        call_detail(other, 999_999)


def test_test_calls_can_be_viewed_and_say_so(seeded, session):
    repo, _, call = seeded
    test_call = Conversation(organization_id=call.organization_id, campaign_id=call.campaign_id, is_test=True,
                             channel="simulator")
    session.add(test_call)
    session.flush()
    found = call_detail(repo, test_call.id)
    assert found.is_test and found.turns == [] and found.end_reason is None


def test_the_page_draws_each_turn_on_the_scale_of_the_slowest(seeded):
    repo, _, call = seeded
    found = call_detail(repo, call.id)
    slowest = max(t.waterfall.total_ms for t in found.measured_turns)
    bars = segments(found.turns[2].waterfall, slowest)
    assert [(b.left, b.width) for b in bars[:2]] == [("0.00%", "13.33%"), ("13.33%", "33.33%")]
    assert bars[-1].label == "Not broken down" and bars[-1].ms == "40 ms"  # 790 - 750.4
    assert offset_text(4_200) == "00:04.2" and offset_text(3_725_950) == "1:02:05.9" and offset_text(None) == ""


def test_recent_calls_are_the_latest_with_their_latency_and_stay_in_the_organisation(seeded, session):
    repo, other, call = seeded
    later = Conversation(organization_id=call.organization_id, campaign_id=None, is_test=True,
                         started_at=datetime(2026, 3, 10, tzinfo=timezone.utc))
    session.add(later)
    session.flush()
    latest = call_view.recent_calls(repo)
    assert [c.id for c in latest] == [later.id, call.id]
    assert (latest[0].is_test, latest[0].timed_turns, latest[0].slowest_ms) == (True, 0, None)
    assert (latest[1].campaign_name, latest[1].timed_turns, latest[1].slowest_ms, latest[1].average_ms) == (
        "Open House", 2, 900.0, 845.0)
    assert [c.id for c in call_view.recent_calls(repo, call.campaign_id)] == [call.id]
    assert call_view.recent_calls(other) == [] and call_view.recent_calls(other, call.campaign_id) == []
    assert recent_row(latest[1]).latency == "slowest 900 ms · average 845 ms over 2 turns"
