"""The dashboard's analytics on a small seeded organisation: exact numbers, the range and campaign filters, test
calls left out, and another organisation never counted — on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlmodel import Session

from quantum_voice.core.errors import ValidationFailed
from quantum_voice.models.calls import ConsentRecord, Conversation, Speaker, TranscriptTurn
from quantum_voice.models.campaigns import QRCode, QRScanEvent
from quantum_voice.models.handoff import Handoff
from quantum_voice.models.knowledge import KnowledgeQuery, QnAPair
from quantum_voice.models.leads import Lead
from quantum_voice.services import analytics, campaigns
from quantum_voice.services.analytics import AnalyticsFilter
from quantum_voice.services.tenancy import OrgRepository
from tests.factories import repo_for, verified_owner

WEEK = AnalyticsFilter(date(2026, 3, 4), date(2026, 3, 10))


def at(day: int, hour: int = 10, seconds: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=timezone.utc) + timedelta(seconds=seconds)


@dataclass
class Seeded:
    repo: OrgRepository
    other: OrgRepository
    x: int  # campaign "Open House"
    y: int  # campaign "Spring Sale"
    kb: int
    measured_call: int  # Open House, the 9th: four measured agent turns


class Org:
    """Writes one organisation's calls and what hangs off them."""

    def __init__(self, session: Session, organization_id: int):
        self.session, self.org = session, organization_id

    def call(self, campaign: int, day: int, *, status: str = "ended", seconds: float | None = None,
             test: bool = False, band: str | None = None, latencies: tuple[float, ...] = ()) -> int:
        call = Conversation(organization_id=self.org, campaign_id=campaign, status=status, is_test=test,
                            started_at=at(day), duration_seconds=seconds)
        self.session.add(call)
        self.session.flush()
        if band:
            self.session.add(Lead(organization_id=self.org, campaign_id=campaign, conversation_id=call.id, band=band,
                                  is_test=test, created_at=at(day, 11)))
        self.session.add(TranscriptTurn(organization_id=self.org, conversation_id=call.id, seq=0,
                                        speaker=Speaker.CALLER.value, text="Hello"))
        for seq, ms in enumerate(latencies, start=1):
            self.session.add(TranscriptTurn(organization_id=self.org, conversation_id=call.id, seq=seq,
                                            speaker=Speaker.AGENT.value, text="Hi",
                                            meta={"metrics": {"voice_to_voice_ms": ms, "stt_ms": 100.0}}))
        return call.id

    def question(self, kb: int, call: int | None, text: str, *, answered: bool = False, day: int = 9) -> None:
        self.session.add(KnowledgeQuery(organization_id=self.org, knowledge_base_id=kb, conversation_id=call,
                                        query=text, answered=answered, created_at=at(day)))

    def handoff(self, call: int, *, waited: int | None, day: int = 9) -> None:
        self.session.add(Handoff(organization_id=self.org, conversation_id=call, reason="request",
                                 requested_at=at(day), accepted_at=at(day, seconds=waited) if waited else None,
                                 status="ended" if waited else "abandoned"))


def seed(session: Session) -> Seeded:
    owner, org = verified_owner(session)
    other_owner, other_org = verified_owner(session, email="b@example.com", org="B Homes")
    repo, other = repo_for(session, owner), repo_for(session, other_owner)
    x, y = campaigns.create_campaign(repo, name="Open House"), campaigns.create_campaign(repo, name="Spring Sale")
    z = campaigns.create_campaign(other, name="B campaign")
    a, b = Org(session, org.id), Org(session, other_org.id)
    x1 = a.call(x.id, 9, seconds=60, band="hot", latencies=(400, 500, 600, 2000))
    x2 = a.call(x.id, 9, seconds=120, band="warm")
    a.call(x.id, 10, status="active")
    y1 = a.call(y.id, 10, seconds=30, band="warm", latencies=(700,))
    trial = a.call(x.id, 10, seconds=999, test=True, band="hot", latencies=(9000,))
    a.call(x.id, 1, seconds=45, band="hot")  # before the week
    for owner_of, campaign, call in ((b, z, b.call(z.id, 10, status="active", band="hot", latencies=(50,))),
                                     (b, z, b.call(z.id, 10, seconds=10, band="hot"))):
        owner_of.question(campaign.knowledge_base_id, call, "What are the opening hours?")
        owner_of.handoff(call, waited=5, day=10)
    kb = x.knowledge_base_id
    a.question(kb, x1, "What are the opening hours?")
    a.question(kb, x2, "  what are the opening hours?")
    a.question(kb, x1, "Is there parking?")
    a.question(kb, y1, "How much is it?", answered=True, day=10)
    a.question(kb, trial, "Secret test question?", day=10)
    a.question(kb, None, "Typed on the knowledge page?")  # no call: not a caller's question
    a.handoff(x1, waited=30)
    a.handoff(y1, waited=90, day=10)
    a.handoff(x2, waited=None)
    qr = QRCode(organization_id=org.id, campaign_id=x.id, code="scanx")
    other_qr = QRCode(organization_id=other_org.id, campaign_id=z.id, code="scanz")
    session.add_all([qr, other_qr])
    session.flush()
    for day in (8, 9, 9):
        session.add(QRScanEvent(organization_id=org.id, qr_code_id=qr.id, campaign_id=x.id, scanned_at=at(day)))
    session.add(QRScanEvent(organization_id=other_org.id, qr_code_id=other_qr.id, campaign_id=z.id, scanned_at=at(9)))
    for n, call in enumerate((x1, None, trial)):
        session.add(ConsentRecord(public_id=f"consent-{n}", organization_id=org.id, campaign_id=x.id,
                                  conversation_id=call, email="c@example.com", granted=True, wording="ok",
                                  policy_version="1", created_at=at(9)))
    session.flush()
    return Seeded(repo, other, x.id, y.id, kb, x1)


@pytest.fixture
def seeded(session) -> Seeded:
    return seed(session)


def test_cards_count_the_weeks_real_calls_and_leads(seeded):
    cards = analytics.cards(seeded.repo, WEEK)
    assert (cards.active_calls, cards.calls, cards.leads, cards.hot_leads) == (1, 4, 3, 1)
    assert cards.conversion == 0.75 and cards.handle_seconds_average == 70.0
    assert (cards.questions, cards.questions_answered, cards.answer_rate) == (4, 1, 0.25)
    assert (cards.handoffs, cards.handoffs_taken, cards.handoff_wait_seconds_median) == (3, 2, 60.0)


def test_the_campaign_filter_narrows_every_number(seeded):
    week_x = AnalyticsFilter(WEEK.first_day, WEEK.last_day, seeded.x)
    cards = analytics.cards(seeded.repo, week_x)
    assert (cards.active_calls, cards.calls, cards.leads, cards.hot_leads) == (1, 3, 2, 1)
    assert cards.handle_seconds_average == 90.0 and (cards.questions, cards.questions_answered) == (3, 0)
    assert (cards.handoffs, cards.handoffs_taken, cards.handoff_wait_seconds_median) == (2, 1, 30.0)
    days, volume = analytics.call_volume(seeded.repo, week_x)
    assert [(s.name, s.calls_per_day) for s in volume] == [("Open House", [0, 0, 0, 0, 0, 2, 1])]
    assert analytics.lead_bands(seeded.repo, AnalyticsFilter(WEEK.first_day, WEEK.last_day, seeded.y)) == \
        {"hot": 0, "warm": 1, "cold": 0}


def test_the_date_range_decides_what_counts(seeded):
    first = AnalyticsFilter(date(2026, 3, 1), date(2026, 3, 1))
    cards = analytics.cards(seeded.repo, first)
    assert (cards.calls, cards.leads, cards.hot_leads, cards.handle_seconds_average) == (1, 1, 1, 45.0)
    assert cards.active_calls == 1  # "now", whatever the range
    assert analytics.cards(seeded.repo, AnalyticsFilter(date(2026, 2, 1), date(2026, 2, 28))).calls == 0


def test_charts_group_by_day_campaign_stage_and_band(seeded):
    days, volume = analytics.call_volume(seeded.repo, WEEK)
    assert days[0] == date(2026, 3, 4) and days[-1] == date(2026, 3, 10) and len(days) == 7
    assert [(s.name, s.calls_per_day) for s in volume] == [("Open House", [0, 0, 0, 0, 0, 2, 1]),
                                                           ("Spring Sale", [0, 0, 0, 0, 0, 0, 1])]
    assert [(s.key, s.count) for s in analytics.funnel(seeded.repo, WEEK)] == \
        [("scans", 3), ("gate", 2), ("calls", 4), ("leads", 3), ("hot", 1)]
    assert analytics.lead_bands(seeded.repo, WEEK) == {"hot": 1, "warm": 2, "cold": 0}
    assert [(q.question.strip().lower(), q.count) for q in analytics.unanswered_questions(seeded.repo, WEEK)] == \
        [("what are the opening hours?", 2), ("is there parking?", 1)]
    assert [(d.day, d.turns, d.p50_ms, d.p95_ms) for d in analytics.voice_to_voice(seeded.repo, WEEK)] == \
        [(date(2026, 3, 9), 4, 500.0, 2000.0), (date(2026, 3, 10), 1, 700.0, 700.0)]


def test_a_question_a_qna_pair_now_answers_leaves_the_unanswered_list(seeded, session):
    session.add(QnAPair(organization_id=seeded.repo.scope.organization_id, knowledge_base_id=seeded.kb,
                        question="Is there parking", answer="Yes, behind the house."))
    session.flush()
    assert [q.count for q in analytics.unanswered_questions(seeded.repo, WEEK)] == [2]


def test_another_organisation_sees_only_its_own_calls(seeded):
    mine = analytics.dashboard_analytics(seeded.other, WEEK)
    assert (mine.cards.active_calls, mine.cards.calls, mine.cards.leads, mine.cards.hot_leads) == (1, 2, 2, 2)
    assert (mine.cards.questions, mine.cards.handoffs, mine.cards.handoff_wait_seconds_median) == (2, 2, 5.0)
    assert [(s.name, sum(s.calls_per_day)) for s in mine.volume] == [("B campaign", 2)]
    assert [s.count for s in mine.funnel] == [1, 0, 2, 2, 2]
    assert [(d.turns, d.p50_ms) for d in mine.latency] == [(1, 50.0)]
    # a campaign of another organisation filters to nothing
    assert analytics.cards(seeded.other, AnalyticsFilter(WEEK.first_day, WEEK.last_day, seeded.x)).calls == 0


def test_ranges_are_bounded_and_in_order():
    with pytest.raises(ValidationFailed):
        AnalyticsFilter(date(2026, 3, 10), date(2026, 3, 9))
    with pytest.raises(ValidationFailed):
        AnalyticsFilter(date(2025, 1, 1), date(2026, 3, 10))
    assert AnalyticsFilter.last_days(7, today=date(2026, 3, 10)).first_day == date(2026, 3, 4)


def test_settled_latency_days_are_kept_and_the_latest_days_read_anew(seeded, session):
    later = date(2026, 3, 12)  # seen from the 12th, the whole week is settled; from the 10th, the 9th is not
    assert analytics.voice_to_voice(seeded.repo, WEEK, today=later)[0].turns == 4
    session.add(TranscriptTurn(organization_id=seeded.repo.scope.organization_id, conversation_id=seeded.measured_call,
                               seq=99, speaker=Speaker.AGENT.value, text="Late",
                               meta={"metrics": {"voice_to_voice_ms": 100.0}}))
    session.flush()
    assert analytics.voice_to_voice(seeded.repo, WEEK, today=later)[0].turns == 4  # kept from the first read
    fresh = analytics.voice_to_voice(seeded.repo, WEEK, today=date(2026, 3, 10))
    assert [(d.day, d.turns, d.p50_ms) for d in fresh] == [(date(2026, 3, 9), 5, 500.0), (date(2026, 3, 10), 1, 700.0)]
