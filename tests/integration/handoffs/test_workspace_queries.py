"""The agent workspace's own queries on a real database (SQLite and PostgreSQL): the signed-in agent's ongoing calls,
their calls of today with talk time, and the live transcript of a taken call."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from quantum_voice.core.errors import NotFound, PermissionDenied
from quantum_voice.services.handoffs import disposition, queue, takeover
from tests.integration.flows.test_conversations import acting, new_campaign
from tests.integration.handoffs.support import Clock, ask_for_person, member, owner


@pytest.fixture
def team(engine) -> dict[str, int]:
    owner_id = owner()
    return {"owner": owner_id, "campaign": new_campaign(owner_id),
            "ana": member(owner_id, "ana@team.example"), "bo": member(owner_id, "bo@team.example"),
            "viewer": member(owner_id, "vi@team.example", "viewer")}


def accept(user_id: int, handoff_id: int) -> None:
    with acting(user_id) as repo:
        takeover.accept(repo, handoff_id)


def test_my_accepted_lists_only_my_ongoing_calls_earliest_taken_first(team):
    clock = Clock()
    first = ask_for_person(team["owner"], team["campaign"], "ana@example.com", "I'm Ana Lopez")
    second = ask_for_person(team["owner"], team["campaign"], "bo@example.com", "I'm Bo Chen")
    others = ask_for_person(team["owner"], team["campaign"], "cy@example.com", "I'm Cy Diaz")
    waiting = ask_for_person(team["owner"], team["campaign"], "di@example.com", "I'm Di Evans")
    accept(team["ana"], second.id)
    clock.advance(3)
    accept(team["ana"], first.id)
    accept(team["bo"], others.id)
    with acting(team["ana"]) as repo:
        mine = queue.my_accepted(repo)
    assert [v.handoff.id for v in mine] == [second.id, first.id]
    assert mine[1].lead["name"] == "Ana Lopez" and mine[1].campaign_name == "Spring Open House"
    assert "real person" in mine[1].transcript[-2]["text"]
    with acting(team["ana"]) as repo:
        disposition.complete(repo, second.id, "qualified")
        assert [v.handoff.id for v in queue.my_accepted(repo)] == [first.id]
    assert waiting.id not in {v.handoff.id for v in mine}


def test_my_calls_today_has_talk_time_and_leaves_out_yesterday_and_others(team):
    clock = Clock(datetime.now(timezone.utc).replace(hour=10, minute=0, second=0, microsecond=0))
    yesterday = ask_for_person(team["owner"], team["campaign"], "old@example.com", "I'm Old Timer")
    clock.now -= timedelta(days=1)
    accept(team["ana"], yesterday.id)
    clock.now += timedelta(days=1)
    ended = ask_for_person(team["owner"], team["campaign"], "ana@example.com", "I'm Ana Lopez")
    accept(team["ana"], ended.id)
    clock.advance(95)
    with acting(team["ana"]) as repo:
        disposition.complete(repo, ended.id, "callback", callback_at=clock.now + timedelta(days=1))
    clock.advance(60)
    ongoing = ask_for_person(team["owner"], team["campaign"], "bo@example.com", "I'm Bo Chen")
    accept(team["ana"], ongoing.id)
    not_mine = ask_for_person(team["owner"], team["campaign"], "cy@example.com", "I'm Cy Diaz")
    accept(team["bo"], not_mine.id)
    clock.advance(30)
    with acting(team["ana"]) as repo:
        today = queue.my_calls_today(repo)
    assert [c.handoff.id for c in today] == [ongoing.id, ended.id]  # the latest first
    assert today[0].talk_seconds == 30.0 and today[0].handoff.disposition is None
    assert today[1].talk_seconds == 95.0 and today[1].handoff.disposition == "callback"
    assert today[1].lead_name == "Ana Lopez" and today[1].campaign_name == "Spring Open House"


def test_the_live_transcript_is_every_turn_after_the_last_one_seen(team):
    lines = [f"is there parking near house {i}?" for i in range(15)]
    handoff = ask_for_person(team["owner"], team["campaign"], "ana@example.com", "I'm Ana Lopez", *lines)
    accept(team["ana"], handoff.id)
    with acting(team["ana"]) as repo:
        everything = queue.call_transcript(repo, handoff.id)
        assert len(everything) > queue.TRANSCRIPT_TURNS  # the whole call, not the queue's latest turns
        assert [t["seq"] for t in everything] == sorted(t["seq"] for t in everything)
        newer = queue.call_transcript(repo, handoff.id, after_seq=everything[-3]["seq"])
    assert newer == everything[-2:]


def test_the_workspace_queries_need_the_agent_role_and_stay_in_the_organisation(team):
    handoff = ask_for_person(team["owner"], team["campaign"])
    with acting(team["viewer"]) as repo:
        for look in (queue.my_accepted, queue.my_calls_today):
            with pytest.raises(PermissionDenied):
                look(repo)
        with pytest.raises(PermissionDenied):
            queue.call_transcript(repo, handoff.id)
    stranger = owner("someone@else.example", "Elsewhere Ltd")
    with acting(stranger) as repo:
        assert queue.my_accepted(repo) == [] and queue.my_calls_today(repo) == []
        with pytest.raises(NotFound):
            queue.call_transcript(repo, handoff.id)
