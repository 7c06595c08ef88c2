"""What every list page lets people do to its table: search, filter by status, sort by a column, turn pages.
The page's state keeps ``sort_by`` (its own columns and default) and a ``page_count`` computed var; every list
cuts its pages with ``services/paging.page_of`` (here through ``count_pages`` and ``rows_on_page``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import reflex as rx

from quantum_voice.services.paging import page_of

T = TypeVar("T")


def count_pages(total: int, size: int) -> int:
    """The pages ``total`` rows fill, ``size`` to a page; at least one, so an empty list is "page 1 of 1"."""
    return page_of(total, 0, size).count


def rows_on_page(rows: Sequence[T], page: int, size: int) -> list[T]:
    """Page ``page`` (0-based) of ``rows``; a page past the end (the list shrank) shows the last one."""
    bounds = page_of(len(rows), page, size)
    return list(rows[bounds.start:bounds.stop])


class ListControls(rx.State, mixin=True):
    query: str = ""
    status_filter: str = "all"
    page: int = 0

    @rx.event
    def set_query(self, value: str):
        self.query, self.page = value, 0

    @rx.event
    def set_status_filter(self, value: str):
        self.status_filter, self.page = value, 0

    @rx.event
    def sort(self, column: str):
        self.sort_by, self.page = column, 0

    @rx.event
    def next_page(self):
        self.page = min(self.page + 1, self.page_count - 1)

    @rx.event
    def previous_page(self):
        self.page = max(self.page - 1, 0)
