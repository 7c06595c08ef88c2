"""What the knowledge pages list: documents in the order a person picked (``PAGE_SIZE`` to a page, cut by
``services/paging``), and the campaigns that answer from a knowledge base (named before it is deleted)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from quantum_voice.models.campaigns import Campaign
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository

PAGE_SIZE = 25
SORT_COLUMNS = ("name", "status", "added", "size")
# Newest and largest first read best; names and statuses read best from the top of the alphabet / pipeline.
DESCENDING_FIRST = ("added", "size")
# A document's way through processing; sorting by status follows it, with failed ones after the ready ones.
STATUS_ORDER = ("queued", "parsing", "chunking", "embedding", "ready", "failed")


class Listed(Protocol):
    """A document as a list shows it: a ``Document`` row, or the page's own copy of one."""
    id: int
    name: str
    status: str
    size_bytes: int
    created_at: datetime | str  # ISO strings sort like the datetimes they were written from


T = TypeVar("T", bound=Listed)

_KEYS: dict[str, Callable[[Listed], Any]] = {
    "name": lambda d: d.name.casefold(),
    "status": lambda d: STATUS_ORDER.index(d.status) if d.status in STATUS_ORDER else len(STATUS_ORDER),
    "added": lambda d: d.created_at,
    "size": lambda d: d.size_bytes,
}


def sort_documents(rows: Sequence[T], column: str, descending: bool = False) -> list[T]:
    """``rows`` ordered by one of ``SORT_COLUMNS`` (an unknown column sorts by date added); ties by id, so the
    order never jumps between refreshes."""
    key = _KEYS.get(column, _KEYS["added"])
    return sorted(rows, key=lambda d: (key(d), d.id), reverse=descending)


def next_sort(column: str, descending: bool, clicked: str) -> tuple[str, bool]:
    """The order after a click on a column header: the same column flips, another starts in its natural order."""
    if clicked not in SORT_COLUMNS:
        return column, descending
    if clicked == column:
        return column, not descending
    return clicked, clicked in DESCENDING_FIRST


def campaigns_using(repo: OrgRepository, knowledge_base_id: int, limit: int = 50) -> list[str]:
    """Names of the campaigns (not deleted) that answer callers from this knowledge base."""
    repo.scope.require(Permission.VIEW)
    campaigns = repo.list(Campaign, Campaign.knowledge_base_id == knowledge_base_id, Campaign.deleted_at.is_(None),
                          order_by=Campaign.name, limit=limit)
    return [c.name for c in campaigns]
