"""What every analytics query shares: the organisation's rows only (the repository's scope), real calls only (test
calls stay out of analytics), the campaign filter, and the day of a timestamp in SQL."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import SQLModel

from quantum_voice.models.calls import Conversation
from quantum_voice.services.analytics.period import AnalyticsFilter
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository


def allowed(repo: OrgRepository) -> None:
    repo.scope.require(Permission.VIEW)


def in_org(repo: OrgRepository, model: type[SQLModel]):
    return model.organization_id == repo.scope.organization_id  # type: ignore[attr-defined]


def real_calls(repo: OrgRepository, f: AnalyticsFilter) -> list:
    """Conditions on ``Conversation``: the organisation's real calls of the campaign filter (any date)."""
    conditions = [in_org(repo, Conversation), Conversation.is_test.is_(False)]  # type: ignore[attr-defined]
    if f.campaign_id is not None:
        conditions.append(Conversation.campaign_id == f.campaign_id)
    return conditions


def of_campaign(column, f: AnalyticsFilter) -> list:
    return [] if f.campaign_id is None else [column == f.campaign_id]


def day_of(column):
    """The UTC day of a timestamp column; SQLite answers 'YYYY-MM-DD', PostgreSQL a date (see ``as_day``)."""
    return sa.func.date(column)


def as_day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def scalar_rows(repo: OrgRepository, stmt) -> list:
    return list(repo.session.exec(stmt).all())  # type: ignore[call-overload]
