"""Cutting a list into pages: which page exists, its bounds and its "1–25 of 60" label. Every list that pages
uses it: the knowledge documents (services/knowledge/listing.py sorts them) and the campaigns and flows lists
(states/listing.py)."""

from __future__ import annotations

from dataclasses import dataclass


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
