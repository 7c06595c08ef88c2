"""The dashboard's charts for a range: call volume per day by campaign, the funnel, lead bands and the most-asked
unanswered questions. Each is grouped in the database; only the groups come back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import select

from quantum_voice.models.calls import ConsentRecord, Conversation
from quantum_voice.models.campaigns import Campaign, QRScanEvent
from quantum_voice.models.knowledge import KnowledgeQuery, QnAPair
from quantum_voice.models.leads import Lead, LeadBand
from quantum_voice.services.analytics.cards import call_counts, lead_counts
from quantum_voice.services.analytics.period import AnalyticsFilter
from quantum_voice.services.analytics.scoping import allowed, as_day, day_of, in_org, of_campaign, real_calls
from quantum_voice.services.knowledge.questions import normalise_question
from quantum_voice.services.tenancy import OrgRepository

MAX_CAMPAIGN_SERIES = 12  # the busiest campaigns get a line each; the rest are summed as "Other campaigns"
TOP_QUESTIONS = 10
MAX_QNA_PAIRS = 5_000  # read to leave out questions a Q&A pair now answers
NO_CAMPAIGN = "No campaign"
OTHER_CAMPAIGNS = "Other campaigns"


@dataclass(frozen=True)
class VolumeSeries:
    campaign_id: int | None
    name: str
    calls_per_day: list[int]  # one per day of the range


@dataclass(frozen=True)
class FunnelStage:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class UnansweredQuestion:
    question: str
    knowledge_base_id: int
    count: int


def call_volume(repo: OrgRepository, f: AnalyticsFilter) -> tuple[list[date], list[VolumeSeries]]:
    """Real calls per day and campaign, busiest campaign first."""
    allowed(repo)
    day = day_of(Conversation.started_at)
    stmt = (select(day, Conversation.campaign_id, sa.func.count()).select_from(Conversation)
            .where(*real_calls(repo, f), *f.within(Conversation.started_at))
            .group_by(day, Conversation.campaign_id))
    days = f.days()
    index = {d: i for i, d in enumerate(days)}
    counts: dict[int | None, list[int]] = {}
    for raw_day, campaign_id, count in repo.session.exec(stmt).all():
        counts.setdefault(campaign_id, [0] * len(days))[index[as_day(raw_day)]] += int(count)
    busiest = sorted(counts, key=lambda c: (-sum(counts[c]), c or 0))
    names = campaign_names(repo, [c for c in busiest[:MAX_CAMPAIGN_SERIES] if c is not None])
    series = [VolumeSeries(c, names.get(c, NO_CAMPAIGN) if c is not None else NO_CAMPAIGN, counts[c])
              for c in busiest[:MAX_CAMPAIGN_SERIES]]
    rest = busiest[MAX_CAMPAIGN_SERIES:]
    if rest:
        series.append(VolumeSeries(None, OTHER_CAMPAIGNS, [sum(counts[c][i] for c in rest) for i in range(len(days))]))
    return days, series


def campaign_names(repo: OrgRepository, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    stmt = select(Campaign.id, Campaign.name).where(in_org(repo, Campaign), Campaign.id.in_(ids))  # type: ignore
    return {campaign_id: name for campaign_id, name in repo.session.exec(stmt).all()}


def funnel(repo: OrgRepository, f: AnalyticsFilter) -> list[FunnelStage]:
    """QR scans → email gate passed → calls → leads → hot leads, all in the range. Link opens are not recorded
    anywhere yet, so the funnel starts at QR scans (docs/analytics.md)."""
    allowed(repo)
    scans = select(sa.func.count()).select_from(QRScanEvent).where(
        in_org(repo, QRScanEvent), *of_campaign(QRScanEvent.campaign_id, f), *f.within(QRScanEvent.scanned_at))
    # a gate passed for a test call counts once its call is known to be a test (the consent ticket names the call)
    gates = (select(sa.func.count()).select_from(ConsentRecord)
             .outerjoin(Conversation, Conversation.id == ConsentRecord.conversation_id)
             .where(in_org(repo, ConsentRecord), ConsentRecord.granted.is_(True),  # type: ignore[attr-defined]
                    sa.or_(Conversation.id.is_(None), Conversation.is_test.is_(False)),  # type: ignore
                    *of_campaign(ConsentRecord.campaign_id, f), *f.within(ConsentRecord.created_at)))
    calls, leads = call_counts(repo, f), lead_counts(repo, f)
    return [FunnelStage("scans", "QR scans", int(repo.session.exec(scans).one())),
            FunnelStage("gate", "Passed the email gate", int(repo.session.exec(gates).one())),
            FunnelStage("calls", "Calls", calls.calls),
            FunnelStage("leads", "Leads", leads.leads),
            FunnelStage("hot", "Hot leads", leads.hot)]


def lead_bands(repo: OrgRepository, f: AnalyticsFilter) -> dict[str, int]:
    """New real leads in the range per score band, hot first; every band present, zero or not."""
    allowed(repo)
    stmt = (select(Lead.band, sa.func.count()).select_from(Lead)
            .where(in_org(repo, Lead), Lead.is_test.is_(False), *of_campaign(Lead.campaign_id, f),  # type: ignore
                   *f.within(Lead.created_at))
            .group_by(Lead.band))
    found = {band: int(count) for band, count in repo.session.exec(stmt).all()}
    return {band.value: found.get(band.value, 0) for band in LeadBand}


def unanswered_questions(repo: OrgRepository, f: AnalyticsFilter,
                         limit: int = TOP_QUESTIONS) -> list[UnansweredQuestion]:
    """What callers asked that the documents could not answer, most asked first. Grouped in SQL by the lowercased
    wording; questions a Q&A pair now answers are left out, as on the knowledge page."""
    allowed(repo)
    limit = max(1, min(int(limit), 50))
    wording = sa.func.lower(sa.func.trim(KnowledgeQuery.query))
    asked = sa.func.count().label("asked")
    stmt = (select(KnowledgeQuery.knowledge_base_id, wording, sa.func.min(KnowledgeQuery.query), asked)
            .select_from(KnowledgeQuery).join(Conversation, Conversation.id == KnowledgeQuery.conversation_id)
            .where(in_org(repo, KnowledgeQuery), KnowledgeQuery.answered.is_(False),  # type: ignore[attr-defined]
                   *real_calls(repo, f), *f.within(KnowledgeQuery.created_at))
            .group_by(KnowledgeQuery.knowledge_base_id, wording)
            .order_by(asked.desc(), wording).limit(limit * 2))
    rows = repo.session.exec(stmt).all()
    covered = _covered_by_qna(repo, {kb for kb, *_ in rows})
    found = [UnansweredQuestion(text, kb, int(count)) for kb, _, text, count in rows
             if (kb, normalise_question(text)) not in covered]
    return found[:limit]


def _covered_by_qna(repo: OrgRepository, knowledge_base_ids: set[int]) -> set[tuple[int, str]]:
    if not knowledge_base_ids:
        return set()
    stmt = (select(QnAPair.knowledge_base_id, QnAPair.question)
            .where(in_org(repo, QnAPair), QnAPair.knowledge_base_id.in_(knowledge_base_ids))  # type: ignore
            .limit(MAX_QNA_PAIRS))
    return {(kb, normalise_question(question)) for kb, question in repo.session.exec(stmt).all()}
