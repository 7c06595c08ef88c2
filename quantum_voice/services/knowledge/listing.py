"""What the knowledge pages list: documents in the order a person picked, one page of them at a time, and the
campaigns that answer from a knowledge base (named before it is deleted)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Page:
    number: int  # 0-based, always a page that exists
    count: int  # at least 1, also for an empty list
    start: int  # slice bounds into the sorted list
    stop: int
    total: int

    @property
    def label(self) -> str:
        return f"{self.start + 1}–{self.stop} of {self.total}" if self.total else "0 of 0"

    @property
    def has_previous(self) -> bool:
        return self.number > 0

    @property
    def has_next(self) -> bool:
        return self.number < self.count - 1


def page_of(total: int, number: int, size: int = PAGE_SIZE) -> Page:
    """Page ``number`` of a list of ``total`` items, moved back onto the last page when the list shrank."""
    count = max(1, -(-total // size))
    number = min(max(number, 0), count - 1)
    start = number * size
    return Page(number, count, start, min(start + size, total), total)


def campaigns_using(repo: OrgRepository, knowledge_base_id: int, limit: int = 50) -> list[str]:
    """Names of the campaigns (not deleted) that answer callers from this knowledge base."""
    repo.scope.require(Permission.VIEW)
    campaigns = repo.list(Campaign, Campaign.knowledge_base_id == knowledge_base_id, Campaign.deleted_at.is_(None),
                          order_by=Campaign.name, limit=limit)
    return [c.name for c in campaigns]
