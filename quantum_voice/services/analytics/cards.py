"""The dashboard's headline numbers for a range: each one aggregate query, counted in the database."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import select

from quantum_voice.models.calls import Conversation, ConversationStatus
from quantum_voice.models.handoff import Handoff
from quantum_voice.models.knowledge import KnowledgeQuery
from quantum_voice.models.leads import Lead, LeadBand
from quantum_voice.services.analytics.period import AnalyticsFilter
from quantum_voice.services.analytics.scoping import allowed, in_org, of_campaign, real_calls
from quantum_voice.services.handoffs.metrics import MAX_ROWS as MAX_HANDOFFS
from quantum_voice.services.tenancy import OrgRepository

LIVE_STATUSES = (ConversationStatus.RINGING.value, ConversationStatus.ACTIVE.value,
                 ConversationStatus.HANDED_OFF.value)


@dataclass(frozen=True)
class Cards:
    active_calls: int  # open right now, whatever the range
    calls: int  # started in the range
    leads: int  # created in the range
    hot_leads: int
    conversion: float | None  # leads ÷ calls; None without calls
    handle_seconds_average: float | None  # ended calls only
    questions: int  # asked of the knowledge bases on real calls
    questions_answered: int
    handoffs: int  # requested in the range
    handoffs_taken: int
    handoff_wait_seconds_median: float | None

    @property
    def answer_rate(self) -> float | None:
        return self.questions_answered / self.questions if self.questions else None


@dataclass(frozen=True)
class CallCounts:
    calls: int
    handle_seconds_average: float | None


@dataclass(frozen=True)
class LeadCounts:
    leads: int
    hot: int


def cards(repo: OrgRepository, f: AnalyticsFilter) -> Cards:
    allowed(repo)
    calls, leads = call_counts(repo, f), lead_counts(repo, f)
    questions, answered = question_counts(repo, f)
    requested, taken, wait = handoff_counts(repo, f)
    return Cards(active_calls=active_calls(repo, f), calls=calls.calls, leads=leads.leads, hot_leads=leads.hot,
                 conversion=round(leads.leads / calls.calls, 4) if calls.calls else None,
                 handle_seconds_average=calls.handle_seconds_average, questions=questions,
                 questions_answered=answered, handoffs=requested, handoffs_taken=taken,
                 handoff_wait_seconds_median=wait)


def active_calls(repo: OrgRepository, f: AnalyticsFilter) -> int:
    stmt = select(sa.func.count()).select_from(Conversation).where(
        *real_calls(repo, f), Conversation.status.in_(LIVE_STATUSES))  # type: ignore[attr-defined]
    return int(repo.session.exec(stmt).one())


def call_counts(repo: OrgRepository, f: AnalyticsFilter) -> CallCounts:
    stmt = select(sa.func.count(), sa.func.avg(Conversation.duration_seconds)).select_from(Conversation).where(
        *real_calls(repo, f), *f.within(Conversation.started_at))
    count, average = repo.session.exec(stmt).one()
    return CallCounts(int(count), round(float(average), 1) if average is not None else None)


def lead_counts(repo: OrgRepository, f: AnalyticsFilter) -> LeadCounts:
    hot = sa.func.sum(sa.case((Lead.band == LeadBand.HOT.value, 1), else_=0))
    stmt = select(sa.func.count(), hot).select_from(Lead).where(
        in_org(repo, Lead), Lead.is_test.is_(False), *of_campaign(Lead.campaign_id, f),  # type: ignore[attr-defined]
        *f.within(Lead.created_at))
    count, hot_count = repo.session.exec(stmt).one()
    return LeadCounts(int(count), int(hot_count or 0))


def question_counts(repo: OrgRepository, f: AnalyticsFilter) -> tuple[int, int]:
    """Questions callers asked on real calls in the range, and how many the documents (or a Q&A pair) answered.
    Questions typed on the knowledge page have no call and are left out."""
    answered = sa.func.sum(sa.case((KnowledgeQuery.answered.is_(True), 1), else_=0))  # type: ignore[attr-defined]
    stmt = (select(sa.func.count(), answered).select_from(KnowledgeQuery)
            .join(Conversation, Conversation.id == KnowledgeQuery.conversation_id)
            .where(in_org(repo, KnowledgeQuery), *real_calls(repo, f), *f.within(KnowledgeQuery.created_at)))
    count, answered_count = repo.session.exec(stmt).one()
    return int(count), int(answered_count or 0)


def handoff_counts(repo: OrgRepository, f: AnalyticsFilter) -> tuple[int, int, float | None]:
    """Hand-offs requested in the range, how many a person took, and the median wait for one — as
    services/handoffs/metrics.py counts them, for any range and campaign. The median needs the waits themselves:
    only the two timestamps of taken hand-offs are read, at most ``MAX_HANDOFFS`` of them."""
    taken = sa.func.sum(sa.case((Handoff.accepted_at.is_not(None), 1), else_=0))  # type: ignore[union-attr]
    base = (select(sa.func.count(), taken).select_from(Handoff)
            .join(Conversation, Conversation.id == Handoff.conversation_id)
            .where(in_org(repo, Handoff), *real_calls(repo, f), *f.within(Handoff.requested_at)))
    requested, taken_count = repo.session.exec(base).one()
    waits_stmt = (select(Handoff.requested_at, Handoff.accepted_at)
                  .join(Conversation, Conversation.id == Handoff.conversation_id)
                  .where(in_org(repo, Handoff), *real_calls(repo, f), *f.within(Handoff.requested_at),
                         Handoff.accepted_at.is_not(None))  # type: ignore[union-attr]
                  .limit(MAX_HANDOFFS))
    waits = [(accepted - asked).total_seconds() for asked, accepted in repo.session.exec(waits_stmt).all()]
    return int(requested), int(taken_count or 0), round(statistics.median(waits), 1) if waits else None
