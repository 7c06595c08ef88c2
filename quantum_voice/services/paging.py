"""Cutting a list into pages: which page exists, its bounds and its "1–25 of 60" label. Every list that pages
uses it: the knowledge documents (services/knowledge/listing.py sorts them) and the campaigns and flows lists
(states/listing.py). And, for the API's lists, cursors: a batch after the last item seen (below)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import and_, or_

from quantum_voice.core.errors import ValidationFailed

T = TypeVar("T")


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


def page_of(total: int, number: int, size: int) -> Page:
    """Page ``number`` of a list of ``total`` items, moved back onto the last page when the list shrank."""
    count = max(1, -(-total // size))
    number = min(max(number, 0), count - 1)
    start = number * size
    return Page(number, count, start, min(start + size, total), total)


# ---------------------------------------------------------------- cursors: the API's lists, a batch at a time
# A cursor names the last item a client has seen by its place in the list's order (its sort value and id), never a
# position, so a batch neither repeats nor skips an item while items are added or removed. It is opaque to the
# client: base64url of a small JSON array. services/leads/records.py keeps its own (its sort orders vary).

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
BAD_CURSOR = "That cursor is not one this list gave out (or it was cut short). Start again without a cursor."


def write_cursor(*key: int | str | datetime) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value for value in key])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def read_cursor(cursor: str, *kinds: type) -> tuple:
    """The key ``write_cursor`` wrote, checked against ``kinds`` (int, str or datetime, in order); a cursor that
    is not one (tampered, cut short, another list's) is a 422 ``invalid_cursor``."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError(values)
        key = tuple(datetime.fromisoformat(v) if kind is datetime else v for v, kind in zip(values, kinds))
        if any(type(v) is not kind for v, kind in zip(key, kinds)):  # bool is no int here
            raise ValueError(key)
        return key
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(BAD_CURSOR, code="invalid_cursor", field="cursor") from None


def after(stmt, columns: tuple, key: tuple | None, *, descending: bool):
    """``stmt`` ordered by ``columns`` (the last one unique, e.g. the id) and, given the ``key`` of the last item
    seen, narrowed to what comes after it in that order."""
    if key is not None:
        beyond = []
        for i, column in enumerate(columns):
            step = column < key[i] if descending else column > key[i]
            beyond.append(and_(*(c == v for c, v in zip(columns[:i], key[:i])), step))
        stmt = stmt.where(or_(*beyond))
    return stmt.order_by(*(c.desc() if descending else c.asc() for c in columns))


@dataclass(frozen=True)
class Batch(Generic[T]):
    items: list[T]
    next_cursor: str | None  # None: this was the last batch


def batch_of(rows: list[T], limit: int, key: Callable[[T], tuple]) -> Batch[T]:
    """The first ``limit`` of ``rows`` (fetched ``limit + 1``, to know whether more follow) and the next cursor."""
    if len(rows) <= limit:
        return Batch(rows, None)
    rows = rows[:limit]
    return Batch(rows, write_cursor(*key(rows[-1])))


def rows_after(repo, model: type[T], *where, key: tuple[int] | None, limit: int, descending: bool = True) -> list[T]:
    """Up to ``limit`` of the organisation's ``model`` rows matching ``where``, by id, after the id in ``key``
    (``repo``: the caller's OrgRepository, which scopes the query to its organisation)."""
    stmt = after(repo.select(model).where(*where), (model.id,), key, descending=descending)
    return list(repo.session.exec(stmt.limit(limit)).all())


def items_after(items: list[T], order: Callable[[T], tuple], key: tuple | None, *,
                descending: bool = False) -> list[T]:
    """The items of a short list already read whole (sorted by ``order``) that come after ``key``."""
    ordered = sorted(items, key=order, reverse=descending)
    if key is None:
        return ordered
    return [item for item in ordered if (order(item) < key if descending else order(item) > key)]
